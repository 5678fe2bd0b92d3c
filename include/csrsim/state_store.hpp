// state_store: the `--state FILE` database — an embedded SQLite file in WAL
// mode holding orders (with the scenario steps they still have to run and
// when), subscriptions, the manual clock's time and the accounts' offsets,
// fault rules, callback settings, per-account scenario sets and how far a
// seeded id stream has drawn. The only module that links SQLite.
// README.md ("Durable state") describes the file for users.
//
// One simulator owns one file: opening takes SQLite's exclusive lock and
// holds it until the StateStore is destroyed, so a second simulator (or a
// `state dump`) on the same file fails with StateFileError instead of sharing it.
//
// Schema: table `schema_version` holds kStateSchemaVersion (older files are
// migrated when opened, one version at a time); an order is a row whose
// `record` is a compact binary form (decoded without a parse tree, for
// start-up time), found by rowid, and each of its notes a row of `notes`
// (order row, position), so adding a note writes that note alone; a
// delivery waiting for a retry keeps when it is due; subscriptions and step lists are JSON
// documents; the steps an order was given live once per distinct step list
// in `step_lists`, so an order keeps its steps when scenario files change
// between runs.
//
// Thread-safety: the StateSink methods are safe from any thread (one
// connection behind one mutex). Open, Restore and Dump run before serving.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>

#include "csrsim/clock.hpp"
#include "csrsim/engine.hpp"
#include "csrsim/mutex.hpp"
#include "csrsim/state_sink.hpp"

struct sqlite3;

namespace csrsim {

class Store;  // store.hpp (simulator/): the orders and subscriptions

inline constexpr int kStateSchemaVersion = 6;

// A state file that cannot be used; what() is one line naming the file.
class StateFileError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct RestoreCounts {
  std::size_t orders = 0;
  std::size_t subscriptions = 0;
};

class StateStore final : public StateSink, public DeliveryLog {
 public:
  enum class Purpose { kServe, kDump };  // kDump does not count as a start
  // Opens FILE (created when absent) and takes its exclusive lock. Throws
  // StateFileError when it is not a state file, has a newer schema, is locked
  // by another simulator, or cannot be written.
  explicit StateStore(const std::string& path, Purpose purpose = Purpose::kServe);
  ~StateStore() override;
  StateStore(const StateStore&) = delete;
  StateStore& operator=(const StateStore&) = delete;

  // Puts the file's contents into a freshly built simulator, before it
  // serves: the manual clock moves to the stored time, then orders (whose
  // pending steps are scheduled at their due times) and subscriptions.
  // Every later commit also records how far `ids` has drawn under its seed.
  RestoreCounts Restore(Engine& engine, Store& store, Clock& clock, IdGenerator& ids);
  // Puts back the settings: timeline offsets (call this before Restore, so
  // the orders' steps are scheduled on the restored timelines), fault rules,
  // callback settings and per-account scenario sets.
  void RestoreSettings(Scheduler& scheduler, FaultInjector& faults, CallbackDispatcher& dispatcher,
                       ScenarioLibrary& scenarios);

  // Puts back the callback journal (its latest `journal.capacity()` entries)
  // and sends again every delivery whose final outcome was not journaled
  // (at-least-once across a crash). Call after Restore, with `dispatcher`'s
  // DeliveryLog set to this store.
  void RestoreCallbacks(Journal& journal, CallbackDispatcher& dispatcher);

  // The whole file as one JSON document (`csr-simulator state dump FILE`).
  std::string DumpJson();

  // StateSink
  std::vector<std::int64_t> SaveOrder(const Order& order, const ScenarioProgress& progress,
                                      std::optional<std::size_t> edited_note = std::nullopt,
                                      const std::vector<Delivery>& callbacks = {}) override;
  void SaveSubscriptions(const std::string& account_id, const std::vector<Subscription>& subscriptions) override;
  void SaveClock(SimTime now) override;
  void Reset(const std::optional<std::string>& account_id) override;
  void SaveFaults(const FaultInjector& faults) override;
  void SaveCallbackSettings(std::optional<CallbackAuthMode> auth, std::optional<RetryPolicy> retry) override;
  void SaveAccountScenarios(const std::string& account_id, const std::optional<std::string>& text) override;
  void SaveOffset(const std::string& account_id, Duration offset) override;

  // DeliveryLog
  std::int64_t DeliverySubmitted(const Delivery& delivery) override;
  void DeliveryChanged(std::int64_t key, const Delivery& delivery) override;
  void DeliveryTurnEnded(std::int64_t key, const std::vector<JournalEntry>& entries, int next_attempt, int tries,
                         std::optional<SimTime> retry_at) override;

 private:
  // Runs `write` inside a transaction and returns once it is committed.
  // Writers that arrive while a commit is under way go together into the
  // next transaction (group commit): a burst of calls costs one commit.
  // Throws StateFileError when the transaction fails (nothing of it is kept).
  void Commit(const std::function<void()>& write);

  struct Impl;
  std::string path_;
  Mutex faults_mu_;  // held from reading the rules to their commit, so snapshots land in order
  std::atomic<const IdGenerator*> ids_{nullptr};      // set by Restore
  std::atomic<std::size_t> journal_capacity_{10000};  // set by RestoreCallbacks
  Mutex mu_;                                          // held while the connection is used
  std::unique_ptr<Impl> impl_;  // the connection guarded by mu_; the commit queue by its own mutex
};

}  // namespace csrsim
