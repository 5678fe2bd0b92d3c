#include "csrsim/runtime.hpp"

namespace csrsim {

bool AdvanceClock(Runtime& runtime, Duration by) {
  if (!runtime.scheduler.Advance(by)) return false;
  // Steps submit callbacks; callbacks may schedule due work (delay faults,
  // retries): settle until neither has anything left that is due.
  do {
    runtime.scheduler.RunDue();
    runtime.dispatcher.WaitIdle();
  } while (runtime.scheduler.Busy());
  return true;
}

void ResetState(Runtime& runtime, const std::optional<std::string>& account_id) {
  runtime.store.Reset(account_id);
  runtime.dispatcher.Reset(account_id);
  runtime.journal.Clear(account_id);
  runtime.faults.Clear(account_id);
  if (!account_id) runtime.auth.Reset();
}

}  // namespace csrsim
