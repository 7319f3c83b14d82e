// `lockbox init` (SPEC §5): the data directory (0700, with a .gitignore of "*"), a new master key
// file when no master key is configured, and the store.

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>

#include "cli/command.hpp"
#include "cli/context.hpp"
#include "core/json_writer.hpp"
#include "cli/output.hpp"
#include "cli/secret_output.hpp"
#include "core/random.hpp"

namespace lockbox::cli {
namespace {

namespace fs = std::filesystem;

// Creates `dir` with mode 0700 when it does not exist; kRuntime when it cannot, kBadInput when
// something other than a directory is there.
Status ensure_data_dir(const fs::path& dir) {
  std::error_code ec;
  if (fs::is_directory(dir, ec)) return Status::ok();
  if (fs::exists(fs::symlink_status(dir, ec))) {
    return bad_input("data dir " + dir.string() + " exists and is not a directory");
  }
  if (!dir.parent_path().empty()) fs::create_directories(dir.parent_path(), ec);
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return runtime_error("cannot create data dir " + dir.string() + ": " + std::strerror(errno));
  }
  return Status::ok();
}

// Writes "<dir>/.gitignore" containing "*" unless one is already there.
Status ensure_gitignore(const fs::path& dir) {
  const fs::path path = dir / ".gitignore";
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) {
    if (errno == EEXIST) return Status::ok();
    return runtime_error("cannot create " + path.string() + ": " + std::strerror(errno));
  }
  constexpr std::string_view kContent = "*\n";
  const bool ok =
      ::write(fd, kContent.data(), kContent.size()) == static_cast<ssize_t>(kContent.size());
  ::close(fd);
  if (!ok) return runtime_error("cannot write " + path.string());
  return Status::ok();
}

void print_init_result(const Context& ctx, const std::string& database,
                       const std::optional<fs::path>& new_key_file) {
  if (ctx.json()) {
    JsonWriter json;
    json.begin_object();
    json.key("data_dir");
    json.string(ctx.data_dir().string());
    json.key("database");
    json.string(database);
    json.key("master_key_file");
    if (new_key_file) {
      json.string(new_key_file->string());
    } else {
      json.null();
    }
    json.end_object();
    emit_json(json);
    return;
  }
  print_note("created store " + database);
  if (new_key_file) {
    print_note("created master key " + new_key_file->string() +
               " (mode 0600): back it up now and keep it apart from the store; without it "
               "the secrets cannot be decrypted, and with it anyone who can read the store can read "
               "them");
  } else {
    print_note("using the configured master key");
  }
}

// Writes <data-dir>/master.key and loads it back (through the same file checks as any key file).
Result<store::MasterKey> create_key_file(const Context& ctx, const fs::path& path) {
  LOCKBOX_TRY(store::write_new_key_file(path, OsRandom::instance()));
  auto loaded = ctx.load_master_key();
  if (loaded.is_ok() && loaded.value()) return std::move(*loaded.value());
  std::error_code ec;
  fs::remove(path, ec);
  return loaded.is_ok() ? key_error("cannot read the new master key file") : loaded.status();
}

constexpr std::size_t kMinPassphraseChars = 12;

// Characters, not bytes: UTF-8 continuation bytes do not count, so four emoji are four.
std::size_t character_count(std::string_view text) {
  std::size_t n = 0;
  for (const char c : text) {
    if ((static_cast<unsigned char>(c) & 0xC0U) != 0x80U) ++n;
  }
  return n;
}

// A new store's passphrase is at least 12 characters (SPEC §18); an existing store opens with
// whatever passphrase it was made with.
Status check_new_passphrase(const std::optional<store::MasterKey>& key) {
  if (!key || key->kind != store::MasterKeyKind::kPassphrase) return Status::ok();
  if (character_count(key->passphrase.reveal()) >= kMinPassphraseChars) return Status::ok();
  return bad_input(key->source + " is too short for a new store: use at least " +
                   std::to_string(kMinPassphraseChars) + " characters");
}

Status run_init(const GlobalOptions& globals) {
  LOCKBOX_ASSIGN_OR_RETURN(Context ctx, Context::create(globals));
  const fs::path database = store::Store::database_path(ctx.store_options());
  std::error_code ec;
  // Checked before anything is created, so that init on an existing store changes nothing.
  if (fs::exists(database, ec)) return bad_input("store already exists at " + database.string());
  LOCKBOX_ASSIGN_OR_RETURN(std::optional<store::MasterKey> key, ctx.load_master_key());
  LOCKBOX_TRY(check_new_passphrase(key));
  LOCKBOX_TRY(ensure_data_dir(ctx.data_dir()));
  LOCKBOX_TRY(ensure_gitignore(ctx.data_dir()));
  std::optional<fs::path> new_key_file;
  if (!key) {
    new_key_file = ctx.data_dir() / "master.key";
    LOCKBOX_ASSIGN_OR_RETURN(key, create_key_file(ctx, *new_key_file));
  }
  auto created = store::Store::create(ctx.store_options(), std::move(*key));
  if (!created.is_ok()) {
    if (new_key_file) fs::remove(*new_key_file, ec);  // leave no key without a store
    return created.status();
  }
  print_init_result(ctx, store::Store::display_name(ctx.store_options()), new_key_file);
  return Status::ok();
}

}  // namespace

void add_init_command(CLI::App& parent, const GlobalOptions& globals, ActionSlot& slot) {
  CLI::App* cmd = parent.add_subcommand(
      "init", "Create the data dir, the store and (if none is configured) a master key file");
  cmd->callback([&globals, &slot] { slot.action = [&globals] { return run_init(globals); }; });
}

}  // namespace lockbox::cli
