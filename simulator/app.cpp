#include "csrsim/app.hpp"

#include <algorithm>
#include <atomic>
#include <stdexcept>

#include "csrsim/admin.hpp"
#include "csrsim/api.hpp"
#include "csrsim/callbacks.hpp"
#include "csrsim/clock.hpp"
#include "csrsim/control.hpp"
#include "csrsim/engine.hpp"
#include "csrsim/faults.hpp"
#include "csrsim/log.hpp"
#include "csrsim/metrics.hpp"
#include "csrsim/request_journal.hpp"
#include "csrsim/scenario.hpp"
#include "csrsim/scheduler.hpp"
#include "csrsim/server.hpp"
#include "csrsim/state_store.hpp"
#include "store.hpp"

namespace csrsim {

namespace {

std::shared_ptr<const ScenarioSet> LoadScenarios(const Config& config) {
  if (config.scenario_paths.empty()) {
    return std::make_shared<const ScenarioSet>(LoadScenarioText(kDefaultScenariosYaml, "default.yaml"));
  }
  return std::make_shared<const ScenarioSet>(LoadScenarioPaths(config.scenario_paths));
}

std::unique_ptr<Clock> MakeConfiguredClock(const Config& config) {
  auto clock = MakeClock(config.clock);
  if (!clock) throw std::invalid_argument("--clock: invalid value '" + config.clock + "'");
  return clock;
}

// A delivery attempt's outcome as GET /_sim/metrics counts it.
std::string_view CallbackOutcome(const JournalEntry& entry) {
  if (entry.Succeeded()) return "success";
  if (entry.response_status != 0) return "http_error";
  if (entry.error == "dropped by fault") return "dropped";
  return "transport_error";
}

// The process logger takes --log-level and --log-format before any part
// starts (the last Simulator built in a process sets them).
Config WithLogConfigured(Config config) {
  ProcessLog().Configure(ParseLogLevel(config.log_level).value_or(LogLevel::kInfo),
                         ParseLogFormat(config.log_format).value_or(LogFormat::kText));
  return config;
}

DispatcherOptions DispatcherOptionsOf(const Config& config) {
  DispatcherOptions options;
  options.workers = config.callback_workers;
  options.attempt_timeout = config.callback_timeout;
  options.auth_mode = config.callback_auth;
  options.retry.max_attempts = config.callback_attempts;
  return options;
}

}  // namespace

// Members are declared in dependency order; destruction runs in reverse.
struct Simulator::Parts {
  explicit Parts(Config c)
      : config(std::move(c)),
        clock(MakeConfiguredClock(config)),
        state(config.state_file.empty() ? nullptr : std::make_unique<StateStore>(config.state_file)),
        events(*clock),
        scenarios(LoadScenarios(config)),
        journal(config.journal_capacity,
                [this](const JournalEntry& entry) {
                  EmitCallbackAttempt(&events, entry);
                  metrics.ObserveCallback(CallbackOutcome(entry), entry.sent_at - entry.scheduled_at);
                }),
        scheduler(*clock),
        ids(config.seed),
        faults([this] { return ids.NewRandom(); }, &events),
        dispatcher(scheduler, journal, DispatcherOptionsOf(config),
                   [this](const std::string& account, const std::string& subscription, const std::string& outcome) {
                     engine.RecordCallbackOutcome(account, subscription, outcome);
                   }),
        engine(store, *clock, scheduler, dispatcher, scenarios, ids, faults, &events),
        auth(config, *clock, ids),
        requests(config.request_journal_capacity),
        admin({.config = config,
               .clock = *clock,
               .scheduler = scheduler,
               .store = store,
               .journal = journal,
               .dispatcher = dispatcher,
               .scenarios = scenarios,
               .faults = faults,
               .engine = engine,
               .auth = auth,
               .events = events,
               .requests = requests,
               .metrics = metrics,
               .version = CSRSIM_VERSION,
               .ready = [this] { return started.load(); },
               .state = state.get()}),
        bandwidth(config, engine, auth, faults),
        control(admin) {
    engine.SetLimits({.max_orders = config.max_orders,
                      .max_notes_per_order = config.max_notes_per_order,
                      .max_subscriptions_per_account = config.max_subscriptions_per_account});
    if (state) {  // restored before serving; every later change is written through
      state->RestoreSettings(scheduler, faults, dispatcher, scenarios);  // offsets before the orders' steps
      state->Restore(engine, store, *clock, ids);
      engine.SetStateSink(state.get());
      dispatcher.SetDeliveryLog(state.get());
      state->RestoreCallbacks(journal, dispatcher);  // deliveries whose outcome was not journaled go out again
      faults.SetChangeHook([this] { state->SaveFaults(faults); });
    }
  }

  Config config;
  std::unique_ptr<Clock> clock;
  std::unique_ptr<StateStore> state;  // --state FILE: locked from here until destruction
  EventBus events;
  Metrics metrics;
  ScenarioLibrary scenarios;
  Store store;
  Journal journal;
  Scheduler scheduler;
  IdGenerator ids;
  FaultInjector faults;
  CallbackDispatcher dispatcher;
  Engine engine;
  Authenticator auth;
  RequestJournal requests;
  SimulatorAdmin admin;
  BandwidthApi bandwidth;
  ControlApi control;
  std::atomic<bool> started{false};
  std::unique_ptr<HttpServer> server;
};

Simulator::Simulator(Config config) : parts_(std::make_unique<Parts>(WithLogConfigured(std::move(config)))) {}

Simulator::~Simulator() { Stop(); }

int Simulator::Start() {
  parts_->scheduler.Start();
  const Config& config = parts_->config;
  const ServerOptions options{
      .host = config.host,
      .port = config.port,
      .max_connections = config.max_connections,
      .max_body_bytes = config.max_body_bytes,
      .max_header_bytes = config.max_header_bytes,
      .max_headers = config.max_headers,
      .header_timeout = config.header_timeout,
      .keep_alive_timeout = config.keep_alive_timeout,
      .tls = config.tls_cert_file.empty() ? nullptr : TlsContext::Load(config.tls_cert_file, config.tls_key_file),
      .on_connection =
          [this](ConnectionEvent event) {
            Metrics& metrics = parts_->metrics;
            switch (event) {
              case ConnectionEvent::kOpened:
                return metrics.ConnectionOpened();
              case ConnectionEvent::kClosed:
                return metrics.ConnectionClosed();
              case ConnectionEvent::kRefused:
                return metrics.ConnectionRefused();
            }
          },
  };
  parts_->server = std::make_unique<HttpServer>(
      options, [this](HttpRequest& request) { return Handle(request); },
      [](const HttpRequest& request, const Error& error) { return HandleError(request, error); });
  int port = parts_->server->Start();
  parts_->bandwidth.SetListenPort(port);
  parts_->started = true;
  return port;
}

ShutdownReport Simulator::Stop() {
  parts_->started = false;
  parts_->journal.Shutdown();  // long-polls answer now, not at their time-out
  parts_->requests.Shutdown();
  parts_->events.Shutdown();                   // event streams end now
  if (parts_->server) parts_->server->Stop();  // in-flight requests finish first
  const std::uint64_t attempts_before = parts_->journal.last_id();
  // --shutdown-grace: queued callbacks may still go out (the scheduler keeps
  // running meanwhile); what is left after it is dropped and counted below.
  if (parts_->config.shutdown_grace.count() > 0) parts_->dispatcher.WaitIdleFor(parts_->config.shutdown_grace);
  const DispatcherDrops drops = parts_->dispatcher.Stop();  // in-flight callback attempts finish
  const std::size_t tasks = parts_->scheduler.pending();    // steps, and the callbacks on the clock
  parts_->scheduler.Stop();
  return {drops.queued, drops.on_clock, tasks > drops.on_clock ? tasks - drops.on_clock : 0,
          parts_->journal.last_id() - attempts_before};
}

HttpResponse Simulator::HandleError(const HttpRequest& request, const Error& error) {
  if (request.path == "/_sim" || request.path.rfind("/_sim/", 0) == 0) return ControlErrorResponse(error);
  return ErrorResponseForPath(error, request.path);
}

// Every request that is not a control call passes here, so this is the one
// place it is journaled (request_journal.hpp).
HttpResponse Simulator::Handle(HttpRequest& request) {
  // The routes catch what they throw; this is the last net, so that no
  // exception reaches the HTTP server (which would put its text in a header).
  try {
    if (auto response = parts_->control.Handle(request)) return *response;
    const auto started = std::chrono::steady_clock::now();
    RequestJournal& journal = parts_->requests;
    std::optional<RequestRecord> record;
    if (journal.enabled()) record = BeginRequestRecord(request);
    const SimTime received = parts_->clock->Now();
    RequestTrace trace;
    request.trace = &trace;
    std::optional<HttpResponse> routed = parts_->bandwidth.Handle(request);
    HttpResponse response =
        routed ? std::move(*routed) : ErrorResponseForPath(Error::NoRoute("no such path"), request.path);
    request.trace = nullptr;
    if (trace.account) request.account = *trace.account;
    const auto latency =
        std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - started);
    parts_->metrics.ObserveRequest(trace.route.value_or(""), response.drop_connection ? 0 : response.status, latency);
    if (record) {
      record->received_at = received + (trace.account ? parts_->scheduler.Offset(*trace.account) : Duration::zero());
      FinishRequestRecord(*record, std::move(trace), response, latency);
      journal.Append(std::move(*record));
    }
    return response;
  } catch (...) {
    request.trace = nullptr;
    return HandleError(request, CurrentError(request));
  }
}

}  // namespace csrsim
