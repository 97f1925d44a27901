#pragma once
// Translation between the admin structs (job_view.h, job_control.h) and the admin API's
// messages (proto/vigil_admin.proto), in both directions: the server fills replies with
// ToProto and reads requests with FromProto; the client does the opposite. Internal to the
// vigil_admin_grpc target (it includes generated protobuf code). Pure functions; thread-safe.
//
// Round trips are exact: FromProto(ToProto(x)) == x for every field, including the watermark's
// Min() ("no event yet": unset) and Max() ("ended": unset with ended = true).
#include <string>

#include "absl/status/status.h"
#include "admin/job_control.h"
#include "admin/job_view.h"
#include "admin/proto/vigil_admin.pb.h"

namespace vigil::admin {

namespace v1 = ::vigil::admin::v1;

void ToProto(const Value& value, v1::Value* out);
Value FromProto(const v1::Value& value);

void ToProto(const JobStatus& status, v1::StatusReply* out);
JobStatus FromProto(const v1::StatusReply& reply);

void ToProto(const std::vector<RulesFile>& files, v1::DeployRequest* out);
std::vector<RulesFile> FromProto(const v1::DeployRequest& request);

void ToProto(const DeployResult& result, v1::DeployReply* out);
DeployResult FromProto(const v1::DeployReply& reply);

// The limit travels as given; 0 stands for "the default" (AlertsQuery{}.limit).
void ToProto(const AlertsQuery& query, v1::AlertsRequest* out);
AlertsQuery FromProto(const v1::AlertsRequest& request);

void ToProto(const AlertsReply& reply, v1::AlertsReply* out);
AlertsReply FromProto(const v1::AlertsReply& reply);

}  // namespace vigil::admin
