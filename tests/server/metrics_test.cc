// Tests of ServerMetrics: the rendered page line by line, its histogram,
// escaping and bounded labels, and counting from several threads.

#include "server/metrics.h"

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "engine/evaluator.h"
#include "engine/program.h"
#include "engine/request.h"
#include "engine/snapshot.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/server/prometheus_text.h"

namespace verdict::server {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::verdict::server::testing::ParsePrometheusText;
using ::verdict::server::testing::PromPage;

absl::Status DecodeNothing(const Program&, Frame&) { return absl::OkStatus(); }

// Builds DecisionEvents over an empty program and frame.
class EventFactory {
 public:
  EventFactory() { frame_.Reset(program_); }

  // Adds a rejection reason to the frame every later event carries.
  void Reject(const std::string& reason) {
    RequestBuilder(program_, frame_).Reject(reason);
  }

  DecisionEvent Event(DecisionApi api, DecisionOutcome outcome,
                      int64_t duration_nanos) {
    permit_.permit = true;
    deny_.permit = false;
    const Decision* decision = nullptr;
    if (outcome == DecisionOutcome::kPermit) decision = &permit_;
    if (outcome == DecisionOutcome::kDeny) decision = &deny_;
    return DecisionEvent{api,
                         program_,
                         frame_,
                         decision,
                         outcome == DecisionOutcome::kInvalid ? invalid_ : ok_,
                         0,
                         duration_nanos,
                         DecodeNothing};
  }

  ShadowDecision Shadow(DecisionOutcome outcome, bool differs) {
    const Decision* decision = nullptr;
    if (outcome == DecisionOutcome::kPermit) decision = &permit_;
    if (outcome == DecisionOutcome::kDeny) decision = &deny_;
    return ShadowDecision{program_, frame_, decision,
                          decision == nullptr ? invalid_ : ok_, differs};
  }

 private:
  Program program_;
  Frame frame_;
  Decision permit_;
  Decision deny_;
  const absl::Status ok_ = absl::OkStatus();
  const absl::Status invalid_ = absl::InvalidArgumentError("bad attribute");
};

PromPage MustParse(const std::string& text) {
  absl::StatusOr<PromPage> page = ParsePrometheusText(text);
  EXPECT_TRUE(page.ok()) << page.status() << "\n" << text;
  return page.ok() ? *page : PromPage{};
}

TEST(ServerMetrics, EmptyPageParses) {
  ServerMetrics metrics;
  const std::string text = metrics.Render();
  const PromPage page = MustParse(text);
  EXPECT_EQ(page.types.at("verdict_decisions_total"), "counter");
  EXPECT_EQ(page.types.at("verdict_decision_duration_seconds"), "histogram");
  EXPECT_THAT(text, HasSubstr("# HELP verdict_decisions_total "));
  EXPECT_THAT(text,
              HasSubstr("verdict_decisions_total{api=\"decide\","
                        "outcome=\"permit\"} 0\n"));
  // No store and no hooks: none of the metrics read through them.
  EXPECT_THAT(text, Not(HasSubstr("verdict_policy_revision_info")));
  EXPECT_THAT(text, Not(HasSubstr("verdict_decision_log_")));
  EXPECT_THAT(text, Not(HasSubstr("verdict_grpc_")));
}

TEST(ServerMetrics, CountsDecisionsByApiAndOutcome) {
  ServerMetrics metrics;
  EventFactory events;
  metrics.RecordDecision(
      events.Event(DecisionApi::kDecide, DecisionOutcome::kPermit, 100));
  metrics.RecordDecision(
      events.Event(DecisionApi::kDecide, DecisionOutcome::kPermit, 100));
  metrics.RecordDecision(
      events.Event(DecisionApi::kEnvoyCheck, DecisionOutcome::kDeny, 100));
  metrics.RecordDecision(events.Event(DecisionApi::kAuthzenEvaluation,
                                      DecisionOutcome::kInvalid, 100));
  metrics.RecordRejectedRequest(DecisionApi::kAuthzenEvaluation);

  const std::string text = metrics.Render();
  EXPECT_THAT(text, HasSubstr("verdict_decisions_total{api=\"decide\","
                              "outcome=\"permit\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("verdict_decisions_total{api=\"decide\","
                              "outcome=\"deny\"} 0\n"));
  EXPECT_THAT(text, HasSubstr("verdict_decisions_total{api=\"envoy_check\","
                              "outcome=\"deny\"} 1\n"));
  EXPECT_THAT(text,
              HasSubstr("verdict_decisions_total{api=\"authzen_evaluation\","
                        "outcome=\"invalid\"} 2\n"));
  // A request rejected before decoding has no duration.
  EXPECT_THAT(text, HasSubstr("verdict_decision_duration_seconds_count{"
                              "api=\"authzen_evaluation\"} 1\n"));
  MustParse(text);
}

TEST(ServerMetrics, HistogramIsCumulative) {
  ServerMetrics metrics;
  EventFactory events;
  for (int64_t nanos :
       std::vector<int64_t>{100, 250, 300, 2'000'000, 5'000'000'000}) {
    metrics.RecordDecision(
        events.Event(DecisionApi::kBatchDecide, DecisionOutcome::kPermit,
                     nanos));
  }
  const std::string text = metrics.Render();
  const std::string bucket =
      "verdict_decision_duration_seconds_bucket{api=\"batch_decide\",le=";
  // 250 ns is on the bound of the first bucket, which includes it.
  EXPECT_THAT(text, HasSubstr(bucket + "\"2.5e-07\"} 2\n"));
  EXPECT_THAT(text, HasSubstr(bucket + "\"5e-07\"} 3\n"));
  EXPECT_THAT(text, HasSubstr(bucket + "\"0.001\"} 3\n"));
  EXPECT_THAT(text, HasSubstr(bucket + "\"0.0025\"} 4\n"));
  EXPECT_THAT(text, HasSubstr(bucket + "\"1\"} 4\n"));
  EXPECT_THAT(text, HasSubstr(bucket + "\"+Inf\"} 5\n"));
  EXPECT_THAT(text, HasSubstr("verdict_decision_duration_seconds_count{"
                              "api=\"batch_decide\"} 5\n"));
  EXPECT_THAT(text, HasSubstr("verdict_decision_duration_seconds_sum{"
                              "api=\"batch_decide\"} 5.00200065\n"));

  const PromPage page = MustParse(text);
  EXPECT_EQ(page.Value("verdict_decision_duration_seconds_bucket",
                       {{"api", "batch_decide"}, {"le", "+Inf"}}),
            page.Value("verdict_decision_duration_seconds_count",
                       {{"api", "batch_decide"}}));
}

TEST(ServerMetrics, NegativeDurationCountsAsZero) {
  ServerMetrics metrics;
  EventFactory events;
  metrics.RecordDecision(
      events.Event(DecisionApi::kDecide, DecisionOutcome::kDeny, -5));
  const std::string text = metrics.Render();
  EXPECT_THAT(text, HasSubstr("verdict_decision_duration_seconds_bucket{"
                              "api=\"decide\",le=\"2.5e-07\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("verdict_decision_duration_seconds_sum{"
                              "api=\"decide\"} 0\n"));
}

TEST(ServerMetrics, RevisionLabelIsEscaped) {
  ProgramStore store;
  auto program = std::make_shared<Program>();
  program->revision = "a\"b\\c\nd";
  store.Publish(program);
  ServerMetrics metrics(&store);

  const std::string text = metrics.Render();
  EXPECT_THAT(text, HasSubstr("verdict_policy_revision_info{revision="
                              "\"a\\\"b\\\\c\\nd\"} 1\n"));
  const PromPage page = MustParse(text);
  EXPECT_EQ(page.Value("verdict_policy_revision_info",
                       {{"revision", "a\"b\\c\nd"}}),
            1);
}

TEST(ServerMetrics, RevisionFollowsPublish) {
  ProgramStore store;
  ProgramStore shadow_store;
  ServerMetrics metrics(&store);
  metrics.SetShadowStore(&shadow_store);
  // Nothing published yet: no revision to report.
  EXPECT_THAT(metrics.Render(), Not(HasSubstr("revision_info")));

  for (const char* revision : {"rev1", "rev2"}) {
    auto program = std::make_shared<Program>();
    program->revision = revision;
    store.Publish(program);
  }
  auto shadow = std::make_shared<Program>();
  shadow->revision = "shadow1";
  shadow_store.Publish(shadow);

  const std::string text = metrics.Render();
  EXPECT_THAT(text,
              HasSubstr("verdict_policy_revision_info{revision=\"rev2\"} 1\n"));
  EXPECT_THAT(text, Not(HasSubstr("rev1")));
  EXPECT_THAT(text, HasSubstr("verdict_shadow_policy_revision_info{"
                              "revision=\"shadow1\"} 1\n"));
  MustParse(text);
}

TEST(RejectionReasonIndex, KnownAndFallbackReasons) {
  struct Case {
    std::string reason;
    std::string label;
  };
  const std::vector<Case> cases = {
      {"token_invalid:aud", "token_invalid:aud"},
      {"token_invalid:untrusted_key", "token_invalid:untrusted_key"},
      {"token_invalid:missing_claim:jti", "token_invalid:missing_claim:jti"},
      {"token_invalid:missing_claim:color", "token_invalid:missing_claim"},
      {"token_invalid:invalid_claim:sub", "token_invalid:invalid_claim:sub"},
      {"token_invalid:invalid_claim:x", "token_invalid:invalid_claim"},
      {"token_invalid:something_new", "token_invalid:other"},
      {"attribute_type:subject.roles", "attribute_type"},
      {"", "other"},
      {"token_invalid", "other"},
      {"\xff\n\"", "other"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(kRejectionReasons[RejectionReasonIndex(c.reason)], c.label)
        << c.reason;
  }
  // Every label maps to itself.
  for (std::string_view label : kRejectionReasons) {
    EXPECT_EQ(kRejectionReasons[RejectionReasonIndex(label)], label);
  }
}

TEST(ServerMetrics, RejectionLabelsStayBounded) {
  ServerMetrics metrics;
  const size_t lines_before = metrics.Render().size();
  EventFactory events;
  events.Reject("token_invalid:exp");
  for (int i = 0; i < 1000; ++i) {
    events.Reject(absl::StrCat("token_invalid:missing_claim:c", i));
    events.Reject(absl::StrCat("made-up \"reason\" ", i));
  }
  metrics.RecordDecision(
      events.Event(DecisionApi::kDecide, DecisionOutcome::kDeny, 1000));

  const std::string text = metrics.Render();
  EXPECT_THAT(text, HasSubstr("verdict_request_rejections_total{"
                              "reason=\"token_invalid:exp\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("verdict_request_rejections_total{"
                              "reason=\"token_invalid:missing_claim\"} 1000\n"));
  EXPECT_THAT(text, HasSubstr("verdict_request_rejections_total{"
                              "reason=\"other\"} 1000\n"));
  EXPECT_THAT(text, Not(HasSubstr("made-up")));
  // Only counts changed, by at most a few digits per line.
  EXPECT_LT(text.size(), lines_before + 64);

  const PromPage page = MustParse(text);
  size_t reason_series = 0;
  for (const auto& sample : page.samples) {
    if (sample.name == "verdict_request_rejections_total") ++reason_series;
  }
  EXPECT_EQ(reason_series, kRejectionReasons.size());
}

TEST(ServerMetrics, CountsShadowDecisions) {
  ServerMetrics metrics;
  EventFactory events;
  const DecisionEvent permit =
      events.Event(DecisionApi::kDecide, DecisionOutcome::kPermit, 100);
  metrics.RecordShadow(permit, events.Shadow(DecisionOutcome::kDeny, true));
  metrics.RecordShadow(permit, events.Shadow(DecisionOutcome::kPermit, false));
  const DecisionEvent deny =
      events.Event(DecisionApi::kEnvoyCheck, DecisionOutcome::kDeny, 100);
  metrics.RecordShadow(deny, events.Shadow(DecisionOutcome::kInvalid, true));

  const std::string text = metrics.Render();
  EXPECT_THAT(text,
              HasSubstr("verdict_shadow_decisions_total{api=\"decide\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("verdict_shadow_differences_total{"
                              "api=\"decide\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("verdict_shadow_differences_total{"
                              "api=\"envoy_check\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("verdict_shadow_outcomes_total{"
                              "enforced=\"permit\",shadow=\"deny\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("verdict_shadow_outcomes_total{"
                              "enforced=\"permit\",shadow=\"permit\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("verdict_shadow_outcomes_total{"
                              "enforced=\"deny\",shadow=\"invalid\"} 1\n"));
  MustParse(text);
}

TEST(ServerMetrics, CountsReloads) {
  ServerMetrics metrics;
  EXPECT_THAT(metrics.Render(),
              HasSubstr("verdict_policy_last_reload_success_timestamp_seconds "
                        "0\n"));
  const int64_t before = absl::GetCurrentTimeNanos();
  metrics.RecordReload(true);
  metrics.RecordReload(false);
  metrics.RecordReload(false);

  const std::string text = metrics.Render();
  EXPECT_THAT(text,
              HasSubstr("verdict_policy_reloads_total{result=\"ok\"} 1\n"));
  EXPECT_THAT(
      text, HasSubstr("verdict_policy_reloads_total{result=\"rejected\"} 2\n"));
  const PromPage page = MustParse(text);
  const double last =
      page.Value("verdict_policy_last_reload_success_timestamp_seconds");
  EXPECT_GE(last, static_cast<double>(before) / 1e9 - 1);
  EXPECT_LE(last, static_cast<double>(absl::GetCurrentTimeNanos()) / 1e9 + 1);
}

TEST(ServerMetrics, ReadsHooksAtRenderTime) {
  ServerMetrics metrics;
  int64_t written = 7;
  metrics.SetDecisionLogCounts([&] { return written; }, [] { return 3; });
  ServiceStats stats;
  stats.rejected_in_flight = 11;
  stats.deadline_exceeded = 12;
  stats.cancelled = 13;
  stats.in_flight = 14;
  metrics.SetVerdictServiceStats([&] { return stats; });
  ExtAuthzStats ext_authz;
  ext_authz.rejected_in_flight = 21;
  metrics.SetExtAuthzStats([&] { return ext_authz; });
  written = 8;

  const std::string text = metrics.Render();
  for (const char* line : {
           "verdict_decision_log_written_total 8\n",
           "verdict_decision_log_dropped_total 3\n",
           "verdict_grpc_rejected_in_flight_total{service=\"verdict\"} 11\n",
           "verdict_grpc_rejected_in_flight_total{service=\"ext_authz\"} 21\n",
           "verdict_grpc_deadline_exceeded_total 12\n",
           "verdict_grpc_cancelled_total 13\n",
           "verdict_grpc_in_flight 14\n",
       }) {
    EXPECT_THAT(text, HasSubstr(line));
  }
  const PromPage page = MustParse(text);
  EXPECT_EQ(page.types.at("verdict_grpc_in_flight"), "gauge");
}

TEST(ServerMetrics, CountsAddUpAcrossThreads) {
  constexpr int kThreads = 4;
  constexpr int kPerThread = 50'000;
  ServerMetrics metrics;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&metrics, t] {
      EventFactory events;
      if (t == 0) events.Reject("token_invalid:replay");
      const DecisionOutcome outcome =
          t % 2 == 0 ? DecisionOutcome::kPermit : DecisionOutcome::kDeny;
      for (int i = 0; i < kPerThread; ++i) {
        metrics.RecordDecision(
            events.Event(DecisionApi::kDecideStream, outcome, 1500));
      }
    });
  }
  for (std::thread& thread : threads) thread.join();

  const PromPage page = MustParse(metrics.Render());
  const double half = kThreads / 2 * kPerThread;
  EXPECT_EQ(page.Value("verdict_decisions_total",
                       {{"api", "decide_stream"}, {"outcome", "permit"}}),
            half);
  EXPECT_EQ(page.Value("verdict_decisions_total",
                       {{"api", "decide_stream"}, {"outcome", "deny"}}),
            half);
  EXPECT_EQ(page.Value("verdict_decision_duration_seconds_count",
                       {{"api", "decide_stream"}}),
            kThreads * kPerThread);
  EXPECT_EQ(page.Value("verdict_decision_duration_seconds_bucket",
                       {{"api", "decide_stream"}, {"le", "1e-06"}}),
            0);
  EXPECT_EQ(page.Value("verdict_decision_duration_seconds_bucket",
                       {{"api", "decide_stream"}, {"le", "2.5e-06"}}),
            kThreads * kPerThread);
  EXPECT_DOUBLE_EQ(page.Value("verdict_decision_duration_seconds_sum",
                              {{"api", "decide_stream"}}),
                   kThreads * kPerThread * 1.5e-6);
  EXPECT_EQ(page.Value("verdict_request_rejections_total",
                       {{"reason", "token_invalid:replay"}}),
            kPerThread);
}

TEST(ParsePrometheusText, RejectsBrokenPages) {
  const std::vector<std::string> broken = {
      "x 1\n",                                      // no TYPE
      "# TYPE x counter\nx{a=\"b} 1\n",             // unterminated value
      "# TYPE x counter\nx{a=\"\\t\"} 1\n",         // unknown escape
      "# TYPE x counter\nx one\n",                  // not a number
      "# TYPE x counter\nx 1\nx 2\n",               // repeated sample
      "# TYPE x counter\nx 1",                      // no final newline
      "# TYPE h histogram\nh_bucket{le=\"1\"} 2\n"  // no +Inf bucket
      "h_count 2\n",
      "# TYPE h histogram\nh_bucket{le=\"1\"} 2\n"  // +Inf below _count
      "h_bucket{le=\"+Inf\"} 2\nh_count 3\n",
      "# TYPE h histogram\nh_bucket{le=\"1\"} 3\n"  // not cumulative
      "h_bucket{le=\"+Inf\"} 2\nh_count 2\n",
  };
  for (const std::string& text : broken) {
    EXPECT_FALSE(ParsePrometheusText(text).ok()) << text;
  }
}

}  // namespace
}  // namespace verdict::server
