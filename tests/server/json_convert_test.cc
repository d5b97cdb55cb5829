// Tests of the JSON <-> verdict.v1 conversions used by `verdict decide`.

#include "server/json_convert.h"

#include <string>

#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace verdict::server {
namespace {

using nlohmann::json;

absl::StatusOr<v1::DecideRequest> Convert(const char* text) {
  return JsonToDecideRequest(json::parse(text));
}

const v1::Value& SubjectProperty(const v1::DecideRequest& request,
                                 const std::string& name) {
  return request.subject().properties().fields().at(name);
}

TEST(JsonToDecideRequest, EntitiesAndTypedValues) {
  absl::StatusOr<v1::DecideRequest> request = Convert(R"({
    "subject": {"type": "user", "id": "alice",
                "properties": {"age": 9007199254740993, "admin": true,
                               "roles": ["editor", "viewer"],
                               "name": "Alice", "home": {"city": "Paris"}}},
    "action": {"name": "can_read"},
    "resource": {"type": "todo", "id": "t1"},
    "context": {"ip": "127.0.0.1"},
    "attributes": {"tee": {"debug": false}}})");
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_EQ(request->subject().type(), "user");
  EXPECT_EQ(request->subject().id(), "alice");
  EXPECT_EQ(request->action().name(), "can_read");
  EXPECT_EQ(request->resource().id(), "t1");
  EXPECT_EQ(SubjectProperty(*request, "age").int_value(), 9007199254740993);
  EXPECT_TRUE(SubjectProperty(*request, "admin").bool_value());
  ASSERT_TRUE(SubjectProperty(*request, "roles").has_string_set());
  EXPECT_EQ(SubjectProperty(*request, "roles").string_set().values_size(), 2);
  EXPECT_EQ(SubjectProperty(*request, "name").string_value(), "Alice");
  EXPECT_EQ(SubjectProperty(*request, "home")
                .object()
                .fields()
                .at("city")
                .string_value(),
            "Paris");
  EXPECT_EQ(request->context().properties().fields().at("ip").string_value(),
            "127.0.0.1");
  EXPECT_FALSE(
      request->attributes().at("tee").fields().at("debug").bool_value());
}

TEST(JsonToDecideRequest, NullIsOmitted) {
  absl::StatusOr<v1::DecideRequest> request = Convert(
      R"({"subject": {"id": null, "properties": {"email": null}},
          "resource": null})");
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_TRUE(request->subject().id().empty());
  EXPECT_TRUE(request->subject().properties().fields().empty());
  EXPECT_FALSE(request->has_resource());
}

TEST(JsonToDecideRequest, FloatNamesField) {
  absl::StatusOr<v1::DecideRequest> request =
      Convert(R"({"resource": {"properties": {"size": 1.5}}})");
  EXPECT_EQ(request.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(request.status().message().find("resource.properties.size"),
            absl::string_view::npos)
      << request.status();
}

TEST(JsonToDecideRequest, NonStringArrayNamesElement) {
  absl::StatusOr<v1::DecideRequest> request =
      Convert(R"({"context": {"tags": ["a", 2]}})");
  EXPECT_EQ(request.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(request.status().message().find("context.tags[1]"),
            absl::string_view::npos)
      << request.status();
}

TEST(JsonToDecideRequest, IntegerAboveInt64IsRejected) {
  absl::StatusOr<v1::DecideRequest> request =
      Convert(R"({"context": {"n": 9223372036854775808}})");
  EXPECT_EQ(request.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(request.status().message().find("context.n"),
            absl::string_view::npos)
      << request.status();
}

TEST(JsonToDecideRequest, UnknownFieldIsRejected) {
  absl::StatusOr<v1::DecideRequest> request =
      Convert(R"({"subject": {"id": "a"}, "evaluations": []})");
  EXPECT_EQ(request.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(request.status().message().find("evaluations"),
            absl::string_view::npos)
      << request.status();
}

TEST(JsonToDecideRequest, EntityMembersAreProperties) {
  absl::StatusOr<v1::DecideRequest> request = Convert(
      R"({"subject": {"id": "a", "roles": ["admin"]},
          "action": {"name": "read", "method": "GET"}})");
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_EQ(request->subject().id(), "a");
  ASSERT_TRUE(SubjectProperty(*request, "roles").has_string_set());
  EXPECT_EQ(SubjectProperty(*request, "roles").string_set().values(0), "admin");
  EXPECT_EQ(request->action().name(), "read");
  EXPECT_EQ(request->action().properties().fields().at("method").string_value(),
            "GET");
}

TEST(JsonToDecideRequest, PropertyGivenTwiceIsRejected) {
  absl::StatusOr<v1::DecideRequest> request = Convert(
      R"({"subject": {"email": "a@x", "properties": {"email": "b@x"}}})");
  EXPECT_EQ(request.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(request.status().message().find("subject.email"),
            absl::string_view::npos)
      << request.status();
}

TEST(JsonToDecideRequest, NonStringIdIsRejected) {
  absl::StatusOr<v1::DecideRequest> request =
      Convert(R"({"subject": {"id": 7}})");
  EXPECT_EQ(request.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(request.status().message().find("subject.id"),
            absl::string_view::npos)
      << request.status();
}

TEST(JsonToDecideRequest, NonObjectIsRejected) {
  absl::StatusOr<v1::DecideRequest> request = Convert("[1, 2]");
  EXPECT_EQ(request.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(DecideResponseToJson, MatchesDecisionJsonShape) {
  v1::DecideResponse response;
  response.set_decision(true);
  response.set_decision_id("0b4c8a54-5f43-4d0e-9a43-4e2f8b0f5c11");
  response.set_revision("rev-1");
  response.add_policies("read-todos");
  v1::PolicyError* error = response.add_errors();
  error->set_policy("update-own-todo");
  error->set_message("attribute subject.email is absent");
  response.add_reasons("permit:read-todos");

  const json rendered = DecideResponseToJson(response);
  EXPECT_EQ(rendered.at("decision"), true);
  const json& context = rendered.at("context");
  EXPECT_EQ(context.at("decision_id"), "0b4c8a54-5f43-4d0e-9a43-4e2f8b0f5c11");
  EXPECT_EQ(context.at("revision"), "rev-1");
  EXPECT_EQ(context.at("policies"), json::array({"read-todos"}));
  EXPECT_EQ(context.at("errors")[0].at("policy"), "update-own-todo");
  EXPECT_EQ(context.at("errors")[0].at("message"),
            "attribute subject.email is absent");
  EXPECT_EQ(context.at("reasons"), json::array({"permit:read-todos"}));
}

TEST(ItemErrorToJson, NamesStatusCode) {
  v1::ItemError error;
  error.set_code(3);
  error.set_message("bad");
  const json rendered = ItemErrorToJson(error);
  EXPECT_EQ(rendered.at("error").at("code"), "INVALID_ARGUMENT");
  EXPECT_EQ(rendered.at("error").at("message"), "bad");
}

}  // namespace
}  // namespace verdict::server
