// kafka-mock: a mock Kafka cluster as its own process, for tests, examples and trying Vigil's
// Kafka source and sink without a real cluster (tools/kafka_mock/README.md).
//
//   kafka-mock [--brokers N] [--topic NAME=PARTITIONS]... [--load TOPIC=FILE.jsonl[:KEYFIELD]]...
//     Standard output: `bootstrap=HOST:PORT[,HOST:PORT...]` (first line), then one
//     `topic=NAME partitions=N` line per topic, then `ready` once every load is acknowledged.
//     Standard error: `loaded TOPIC N records` per load. Runs until SIGINT or SIGTERM (exit 0).
//   kafka-mock --bootstrap HOST:PORT [--load ...]... [--consume TOPIC [--count N]]
//     Client mode, against a running cluster: loads the files, then prints the topic's records
//     as JSON lines (see README), and exits.
//
// Exit status: 0 done or stopped by a signal, 1 a runtime error, 2 a usage error.
#include <signal.h>

#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "core/value.h"
#include "tools/kafka_mock/clients.h"
#include "tools/kafka_mock/mock_cluster.h"

namespace {

using vigil::Duration;
using namespace vigil::kafka_mock;

constexpr int kExitError = 1;
constexpr int kExitUsage = 2;
// The mock cluster keeps only this much of each partition (librdkafka's rdkafka_mock.c).
constexpr uint64_t kMockPartitionBytes = 5 << 20;

struct TopicArg {
  std::string name;
  int partitions = 1;
};

struct LoadArg {
  std::string topic, path, key_field;
};

// SIGINT and SIGTERM are blocked in every thread (librdkafka's threads inherit the mask) and
// taken synchronously by the main thread.
sigset_t StopSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  return set;
}

bool StopPending() {
  static bool stopped = false;
  if (stopped) return true;
  sigset_t set = StopSignals();
  timespec zero{0, 0};
  stopped = sigtimedwait(&set, nullptr, &zero) > 0;
  return stopped;
}

bool ParseTopic(const std::string& text, TopicArg* out) {
  size_t eq = text.find('=');
  if (eq == 0 || eq == std::string::npos) return false;
  out->name = text.substr(0, eq);
  try {
    size_t used = 0;
    out->partitions = std::stoi(text.substr(eq + 1), &used);
    return used == text.size() - eq - 1 && out->partitions >= 1;
  } catch (const std::exception&) {
    return false;
  }
}

// TOPIC=FILE[:KEYFIELD]; a ':' followed by a name without '/' ends the file name.
bool ParseLoad(const std::string& text, LoadArg* out) {
  size_t eq = text.find('=');
  if (eq == 0 || eq == std::string::npos || eq + 1 == text.size()) return false;
  out->topic = text.substr(0, eq);
  out->path = text.substr(eq + 1);
  size_t colon = out->path.rfind(':');
  if (colon != std::string::npos && colon + 1 < out->path.size() &&
      out->path.find('/', colon) == std::string::npos) {
    out->key_field = out->path.substr(colon + 1);
    out->path.resize(colon);
  }
  return !out->path.empty();
}

void Line(const std::string& text) {
  std::fputs((text + "\n").c_str(), stdout);
  std::fflush(stdout);
}

int Fail(const std::string& message) {
  std::fprintf(stderr, "kafka-mock: %s\n", message.c_str());
  return kExitError;
}

// Loads every file through one producer; prints `loaded` lines. Returns an exit status or -1.
int LoadAll(const std::string& bootstrap, const std::vector<LoadArg>& loads) {
  if (loads.empty()) return -1;
  auto producer = Producer::Open(bootstrap);
  if (!producer.ok()) return Fail(std::string(producer.status().message()));
  for (const LoadArg& l : loads) {
    auto n = LoadJsonl(producer->get(), l.topic, l.path, l.key_field, StopPending);
    if (!n.ok()) return Fail("--load " + l.topic + ": " + std::string(n.status().message()));
    if (StopPending()) return 0;
    std::fprintf(stderr, "loaded %s %llu records\n", l.topic.c_str(),
                 static_cast<unsigned long long>(*n));
  }
  for (const LoadArg& l : loads) {
    std::vector<uint64_t> by_partition = (*producer)->delivered_bytes(l.topic);
    for (size_t p = 0; p < by_partition.size(); ++p) {
      if (uint64_t bytes = by_partition[p]; bytes > kMockPartitionBytes) {
        std::fprintf(stderr,
                     "kafka-mock: warning: topic %s partition %d holds %llu bytes; the mock "
                     "cluster keeps only the newest 5 MiB of a partition\n",
                     l.topic.c_str(), static_cast<int>(p), static_cast<unsigned long long>(bytes));
      }
    }
  }
  return -1;
}

// `--consume TOPIC`: one JSON object per record on standard output.
int Consume(const std::string& bootstrap, const std::string& topic, size_t count,
            double timeout_s) {
  auto records =
      ReadTopic(bootstrap, topic, Duration(static_cast<int64_t>(timeout_s * 1000)), count);
  if (!records.ok())
    return Fail("--consume " + topic + ": " + std::string(records.status().message()));
  for (const ReadRecord& r : *records) {
    std::string line = "{\"partition\":" + std::to_string(r.partition) +
                       ",\"offset\":" + std::to_string(r.offset) +
                       ",\"timestamp\":" + std::to_string(r.timestamp) + ",\"key\":";
    auto optional = [&line](const std::optional<std::string>& s) {
      if (s) {
        vigil::AppendJsonString(*s, &line);
      } else {
        line += "null";
      }
    };
    optional(r.key);
    line += ",\"value\":";
    optional(r.value);
    line += ",\"headers\":{";
    for (size_t i = 0; i < r.headers.size(); ++i) {
      if (i > 0) line += ",";
      vigil::AppendJsonString(r.headers[i].first, &line);
      line += ":";
      vigil::AppendJsonString(r.headers[i].second, &line);
    }
    line += "}}";
    Line(line);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"kafka-mock: a mock Kafka cluster (librdkafka's) as its own process"};
  int brokers = 1;
  std::vector<std::string> topic_args, load_args;
  std::string bootstrap, consume;
  size_t count = 0;
  double timeout_s = 30;
  app.add_option("--brokers", brokers, "number of brokers (1..16)")->check(CLI::Range(1, 16));
  app.add_option("--topic", topic_args, "NAME=PARTITIONS: create a topic");
  app.add_option("--load", load_args,
                 "TOPIC=FILE.jsonl[:KEYFIELD]: produce the file's lines (keyed by KEYFIELD)");
  auto* bootstrap_opt = app.add_option("--bootstrap", bootstrap,
                                       "HOST:PORT of a running cluster: client mode, no cluster");
  auto* consume_opt =
      app.add_option("--consume", consume, "TOPIC: print its records as JSON lines, then exit")
          ->needs(bootstrap_opt);
  app.add_option("--count", count, "with --consume: wait for at least N records")
      ->needs(consume_opt);
  app.add_option("--timeout", timeout_s, "with --consume: seconds to wait (default 30)")
      ->needs(consume_opt);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : kExitUsage;
  }

  std::vector<TopicArg> topics;
  for (const std::string& t : topic_args) {
    TopicArg arg;
    if (!ParseTopic(t, &arg)) {
      std::fprintf(stderr, "kafka-mock: --topic %s: expected NAME=PARTITIONS (1 or more)\n",
                   t.c_str());
      return kExitUsage;
    }
    topics.push_back(arg);
  }
  std::vector<LoadArg> loads;
  for (const std::string& l : load_args) {
    LoadArg arg;
    if (!ParseLoad(l, &arg)) {
      std::fprintf(stderr, "kafka-mock: --load %s: expected TOPIC=FILE[:KEYFIELD]\n", l.c_str());
      return kExitUsage;
    }
    loads.push_back(arg);
  }
  if (!bootstrap.empty() && !topics.empty()) {
    std::fprintf(stderr, "kafka-mock: --topic needs a mock cluster (not with --bootstrap)\n");
    return kExitUsage;
  }

  signal(SIGPIPE, SIG_IGN);
  if (!bootstrap.empty()) {  // client mode: signals keep their default action
    if (int rc = LoadAll(bootstrap, loads); rc >= 0) return rc;
    if (!consume.empty()) return Consume(bootstrap, consume, count, timeout_s);
    return 0;
  }

  // Blocked before librdkafka starts its threads, which inherit the mask.
  sigset_t stop = StopSignals();
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);

  auto cluster = MockCluster::Start(brokers);
  if (!cluster.ok()) return Fail(std::string(cluster.status().message()));
  // Topics of --load that --topic did not create get one partition.
  for (const LoadArg& l : loads) {
    bool known = false;
    for (const TopicArg& t : topics) known |= t.name == l.topic;
    if (!known) topics.push_back(TopicArg{l.topic, 1});
  }
  for (const TopicArg& t : topics) {
    absl::Status st = (*cluster)->CreateTopic(t.name, t.partitions);
    if (!st.ok()) return Fail(std::string(st.message()));
  }
  Line("bootstrap=" + (*cluster)->bootstrap());
  for (const TopicArg& t : topics) {
    Line("topic=" + t.name + " partitions=" + std::to_string(t.partitions));
  }
  if (int rc = LoadAll((*cluster)->bootstrap(), loads); rc >= 0) return rc;
  if (StopPending()) return 0;
  Line("ready");

  int sig = 0;
  sigwait(&stop, &sig);
  return 0;
}
