#include "csrsim/runtime.hpp"

namespace csrsim {

bool AdvanceClock(Runtime& runtime, Duration by, const std::optional<std::string>& account_id) {
  // After each due time: wait until its callbacks were attempted, and run what
  // they scheduled for that same instant (zero delays, retries), so every
  // attempt happens at the simulated time it was due.
  auto settle = [&runtime, &account_id] {
    for (;;) {
      runtime.dispatcher.WaitIdle(account_id);
      if (!runtime.scheduler.Busy()) return;
      runtime.scheduler.RunDue();
    }
  };
  if (account_id) {
    if (!runtime.scheduler.AdvanceAccount(*account_id, by, settle)) return false;
    if (runtime.state) runtime.state->SaveOffset(*account_id, runtime.scheduler.Offset(*account_id));
    return true;
  }
  if (!runtime.scheduler.Advance(by, settle)) return false;
  if (runtime.state) runtime.state->SaveClock(runtime.clock.Now());
  EmitClockAdvanced(&runtime.events, by);
  return true;
}

void ResetState(Runtime& runtime, const std::optional<std::string>& account_id) {
  runtime.store.Reset(account_id);
  if (runtime.state) runtime.state->Reset(account_id);
  runtime.dispatcher.Reset(account_id);
  runtime.journal.Clear(account_id);
  runtime.requests.Clear(account_id);
  runtime.faults.Clear(account_id);
  runtime.scenarios.RestoreGlobal(account_id);
  runtime.scheduler.ResetTimeline(account_id);
  if (!account_id) runtime.auth.Reset();
  EmitReset(&runtime.events, account_id);
}

}  // namespace csrsim
