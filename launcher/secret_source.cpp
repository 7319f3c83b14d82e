#include "launcher/secret_source.hpp"

namespace lockbox::launcher {
namespace {

class StoreSource final : public SecretSource {
 public:
  explicit StoreSource(std::unique_ptr<store::Store> store) : store_(std::move(store)) {}

  Status resolve(LaunchPlan& plan, const RunRequest& request, const policies::Policy& policy,
                 const std::vector<std::string_view>& host, UnixMillis now, bool decrypt) override {
    return resolve_plan(plan, request, policy, *store_, host, now, decrypt);
  }
  // Launch records may use synchronous=NORMAL (SPEC §6).
  Status audit(const store::AuditEvent& event) override { return store_->append_audit(event, false); }
  std::optional<std::int64_t> change_counter() override {
    auto counter = store_->change_counter();
    return counter.is_ok() ? std::optional<std::int64_t>(*counter) : std::nullopt;
  }

 private:
  std::unique_ptr<store::Store> store_;
};

}  // namespace

std::unique_ptr<SecretSource> store_source(std::unique_ptr<store::Store> store) {
  return std::make_unique<StoreSource>(std::move(store));
}

}  // namespace lockbox::launcher
