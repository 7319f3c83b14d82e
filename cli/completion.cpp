// `lockbox completion SHELL` and the hidden `lockbox __complete WORDS...` (cli/completion.hpp).
#include "cli/completion.hpp"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdlib>
#include <map>
#include <memory>
#include <optional>

#include "cli/output.hpp"
#include "cli/policy_source.hpp"

namespace lockbox::cli {
namespace {

using Chain = std::vector<const CLI::App*>;  // root first, the innermost command last

// What an option's value or a positional is completed with: a fixed set of words, a name list of
// the policy, or a directive for the shell.
enum class ValueKind { kNone, kWords, kFunctions, kJobs, kFiles, kDirs };
struct ValueSpec {
  ValueKind kind = ValueKind::kNone;
  std::vector<std::string> words;
};

ValueSpec option_values(const std::string& name) {
  static const std::map<std::string, ValueSpec> kByName = {
      {"--function", {ValueKind::kFunctions, {}}},
      {"--deliver", {ValueKind::kWords, {"env", "file"}}},
      {"--format", {ValueKind::kWords, {"env", "json", "yaml"}}},
      {"--scope-kind", {ValueKind::kWords, {"global", "namespace", "function", "group", "apikey"}}},
      {"--data-dir", {ValueKind::kDirs, {}}},
  };
  static const std::vector<std::string> kFiles = {
      "--policy",    "--env-file", "--master-key-file", "--new-master-key-file",
      "--from-file", "--payload",  "--token-file",      "--tls-cert",
      "--tls-key",   "--out",      "--checkpoint"};
  if (auto it = kByName.find(name); it != kByName.end()) return it->second;
  if (std::find(kFiles.begin(), kFiles.end(), name) != kFiles.end()) return {ValueKind::kFiles, {}};
  return {};
}

ValueSpec positional_values(const Chain& chain, const std::string& name) {
  const std::string& command = chain.back()->get_name();
  const std::string parent = chain.size() > 1 ? chain[chain.size() - 2]->get_name() : "";
  if (name == "FILE") return {ValueKind::kFiles, {}};
  if (name == "FUNCTION") return {ValueKind::kFunctions, {}};
  if (name == "NAME" && command == "run" && parent == "job") return {ValueKind::kJobs, {}};
  if (name == "SHELL" && command == "completion")
    return {ValueKind::kWords, {"bash", "zsh", "fish"}};
  return {};
}

bool visible(const CLI::Option* opt) {
  return !opt->get_group().empty() && opt->nonpositional();
}

std::vector<std::string> option_names(const CLI::Option* opt) {
  std::vector<std::string> names;
  for (const std::string& l : opt->get_lnames()) names.push_back("--" + l);
  for (const std::string& s : opt->get_snames()) names.push_back("-" + s);
  return names;
}

// The option called `name` ("--x" or "-x") in the innermost command or, falling through, in a
// command around it.
const CLI::Option* find_option(const Chain& chain, const std::string& name) {
  for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
    for (const CLI::Option* opt : (*it)->get_options()) {
      const auto names = option_names(opt);
      if (std::find(names.begin(), names.end(), name) != names.end()) return opt;
    }
  }
  return nullptr;
}

const CLI::App* find_subcommand(const CLI::App& app, const std::string& name) {
  for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; })) {
    if (sub->get_name() == name && !sub->get_group().empty()) return sub;
  }
  return nullptr;
}

std::vector<const CLI::Option*> positionals(const CLI::App& app) {
  return app.get_options(
      [](const CLI::Option* o) { return o->get_positional() && !o->nonpositional(); });
}

// bash splits "--policy=FILE" into "--policy" "=" "FILE": join them back.
std::vector<std::string> join_equals(const std::vector<std::string>& words) {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < words.size(); ++i) {
    if (words[i] == "=" && !out.empty() && out.back().rfind("-", 0) == 0 &&
        out.back().find('=') == std::string::npos) {
      out.back() += "=";
      if (i + 1 < words.size()) out.back() += words[++i];
    } else {
      out.push_back(words[i]);
    }
  }
  return out;
}

struct Walk {
  Chain chain;
  std::size_t positional_words = 0;  // given to the innermost command
  std::optional<std::string> policy;
  std::optional<std::string> value_of;  // the word being completed is this option's value
  bool after_separator = false;
  bool separator_command = false;  // the word is the COMMAND right after "run --"
};

Walk walk(const CLI::App& root, const std::vector<std::string>& words) {
  Walk w;
  w.chain.push_back(&root);
  for (std::size_t i = 0; i + 1 < words.size(); ++i) {
    const std::string& word = words[i];
    if (word == "--") {
      w.after_separator = true;
      w.separator_command = i + 2 == words.size() && w.chain.back()->get_name() == "run" &&
                            w.chain.size() == 2 && w.positional_words == 0;
      return w;
    }
    if (word.size() > 1 && word[0] == '-') {
      const std::size_t eq = word.find('=');
      const std::string name = word.substr(0, eq);
      const CLI::Option* opt = find_option(w.chain, name);
      std::optional<std::string> value;
      if (eq != std::string::npos) value = word.substr(eq + 1);
      if (opt != nullptr && opt->get_items_expected_min() > 0 && !value) {
        if (i + 2 == words.size()) {
          w.value_of = name;
          return w;
        }
        value = words[++i];
      }
      if (name == "--policy" && value) w.policy = *value;
      continue;
    }
    if (const CLI::App* sub = find_subcommand(*w.chain.back(), word)) {
      w.chain.push_back(sub);
      w.positional_words = 0;
    } else {
      ++w.positional_words;
    }
  }
  return w;
}

std::vector<std::string> policy_names(const Walk& w, ValueKind kind) {
  GlobalOptions globals;
  if (w.policy) {
    globals.policy_file = *w.policy;
  } else if (const char* env = std::getenv("LOCKBOX_POLICY"); env != nullptr) {
    globals.policy_file = env;
  }
  auto policy = load_policy(globals);
  std::vector<std::string> names;
  if (!policy.is_ok()) return names;  // a broken policy completes nothing; `policy check` says why
  for (const auto& entry : kind == ValueKind::kJobs ? policy->jobs : policy->functions) {
    names.push_back(entry.first);
  }
  return names;
}

struct Answer {
  std::string text;
  const std::string& prefix;
  void add(const std::string& candidate, const std::string& description) {
    if (candidate.rfind(prefix, 0) != 0) return;
    text += candidate;
    if (!description.empty()) text += "\t" + single_line(description);
    text += "\n";
  }
};

void add_values(Answer& answer, const Walk& w, const ValueSpec& spec) {
  switch (spec.kind) {
    case ValueKind::kWords:
      for (const std::string& word : spec.words) answer.add(word, "");
      break;
    case ValueKind::kFunctions:
    case ValueKind::kJobs:
      for (const std::string& name : policy_names(w, spec.kind)) {
        answer.add(name, spec.kind == ValueKind::kJobs ? "policy job" : "policy function");
      }
      break;
    case ValueKind::kFiles: answer.text += ":files\n"; break;
    case ValueKind::kDirs: answer.text += ":dirs\n"; break;
    case ValueKind::kNone: break;
  }
}

void add_options(Answer& answer, const Chain& chain) {
  for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
    for (const CLI::Option* opt : (*it)->get_options()) {
      if (!visible(opt)) continue;
      if (it != chain.rbegin() && opt == (*it)->get_help_ptr()) continue;  // one --help
      if (it != chain.rbegin() && opt == (*it)->get_version_ptr()) continue;
      for (const std::string& name : option_names(opt)) answer.add(name, opt->get_description());
    }
  }
}

}  // namespace

std::string complete_words(const CLI::App& root, std::vector<std::string> words) {
  words = join_equals(words);
  if (words.empty()) words.emplace_back();
  const Walk w = walk(root, words);
  std::string current = words.back();
  if (w.after_separator) return w.separator_command ? ":commands\n" : ":files\n";
  if (!w.value_of && current.size() > 1 && current[0] == '-' &&
      current.find('=') != std::string::npos) {
    // "--opt=partial": the shells replace only what follows the "=".
    Walk inner = w;
    inner.value_of = current.substr(0, current.find('='));
    current = current.substr(current.find('=') + 1);
    Answer answer{"", current};
    add_values(answer, inner, option_values(*inner.value_of));
    return answer.text;
  }
  Answer answer{"", current};
  if (w.value_of) {
    add_values(answer, w, option_values(*w.value_of));
    return answer.text;
  }
  if (!current.empty() && current[0] == '-') {
    add_options(answer, w.chain);
    return answer.text;
  }
  const CLI::App& app = *w.chain.back();
  for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; })) {
    if (!sub->get_group().empty()) answer.add(sub->get_name(), sub->get_description());
  }
  const auto args = positionals(app);
  if (w.positional_words < args.size()) {
    add_values(answer, w, positional_values(w.chain, args[w.positional_words]->get_name(true)));
  }
  return answer.text;
}

void add_completion_command(CLI::App& root, const GlobalOptions& /*globals*/, ActionSlot& slot) {
  CLI::App* cmd =
      root.add_subcommand("completion", "Print a shell completion script (bash, zsh or fish)");
  auto shell = std::make_shared<std::string>();
  cmd->add_option("SHELL", *shell, "bash, zsh or fish")
      ->required()
      ->check(CLI::IsMember({"bash", "zsh", "fish"}));
  cmd->callback([&slot, shell] {
    slot.action = [shell]() -> Status {
      write_stdout(completion_script(*shell));
      return Status::ok();
    };
  });
}

}  // namespace lockbox::cli
