// Shared by the engine and state store unit tests: a whole engine on a manual
// clock, with the scenarios it is given and no subscriptions.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>

#include "csrsim/engine.hpp"
#include "store.hpp"

namespace csrsim::testing {

struct EngineParts {
  EngineParts(const char* scenarios_yaml, std::optional<std::uint64_t> seed)
      : scheduler(clock),
        dispatcher(scheduler, journal, DispatcherOptions{}, nullptr),
        library(std::make_shared<const ScenarioSet>(LoadScenarioText(scenarios_yaml, "test.yaml"))),
        ids(seed),
        faults([this] { return ids.NewRandom(); }),
        engine(store, clock, scheduler, dispatcher, library, ids, faults) {}

  ManualClock clock;
  Store store;
  Journal journal;
  Scheduler scheduler;
  CallbackDispatcher dispatcher;
  ScenarioLibrary library;
  IdGenerator ids;
  FaultInjector faults;
  Engine engine;
};

}  // namespace csrsim::testing
