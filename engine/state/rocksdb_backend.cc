#include "engine/state/rocksdb_backend.h"

#include <cerrno>
#include <cstdio>

#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/utilities/checkpoint.h>
#include <rocksdb/write_batch.h>

#include "engine/state/file_util.h"

namespace vigil::engine::state {
namespace {

absl::Status FromRocks(const rocksdb::Status& s, std::string_view what) {
  if (s.ok()) return absl::OkStatus();
  std::string msg = "rocksdb " + std::string(what) + ": " + s.ToString();
  if (s.IsNotFound()) return absl::NotFoundError(msg);
  if (s.IsCorruption()) return absl::DataLossError(msg);
  if (s.IsNoSpace()) return absl::ResourceExhaustedError(msg);
  if (s.IsBusy() || s.IsTryAgain() || s.IsTimedOut()) return absl::UnavailableError(msg);
  if (s.IsInvalidArgument()) return absl::InvalidArgumentError(msg);
  return absl::InternalError(msg);
}

rocksdb::Slice ToSlice(std::string_view s) { return rocksdb::Slice(s.data(), s.size()); }
std::string_view ToView(const rocksdb::Slice& s) { return std::string_view(s.data(), s.size()); }

bool ImmutableFile(std::string_view name) {
  return name.ends_with(".sst") || name.ends_with(".blob");
}
bool NotDbFile(std::string_view name) { return name.starts_with("_metadata"); }

absl::Status Closed() {
  return absl::FailedPreconditionError("rocksdb backend is closed (a restore failed)");
}

}  // namespace

RocksDbBackend::RocksDbBackend(Options options)
    : options_(std::move(options)), chk_dir_(options_.dir + "/checkpoints") {}

RocksDbBackend::~RocksDbBackend() { CloseDb(); }

absl::StatusOr<std::unique_ptr<RocksDbBackend>> RocksDbBackend::Open(Options options) {
  if (options.dir.empty()) return absl::InvalidArgumentError("RocksDbBackend needs a directory");
  std::unique_ptr<RocksDbBackend> b(new RocksDbBackend(std::move(options)));
  VIGIL_RETURN_IF_ERROR(internal::MakeDirs(b->options_.dir));
  VIGIL_RETURN_IF_ERROR(b->chk_dir_.Init());
  // Live state that was never checkpointed must not be resurrected.
  VIGIL_RETURN_IF_ERROR(internal::RemoveAll(b->DbPath()));
  VIGIL_RETURN_IF_ERROR(internal::RemoveAll(b->DbPath() + ".restoring"));
  VIGIL_RETURN_IF_ERROR(b->OpenDb());
  return b;
}

absl::Status RocksDbBackend::OpenDb() {
  rocksdb::Options opts;
  opts.create_if_missing = true;
  opts.write_buffer_size = options_.write_buffer_bytes;
  opts.max_background_jobs = 2;
  opts.keep_log_file_num = 2;
  rocksdb::DB* db = nullptr;
  VIGIL_RETURN_IF_ERROR(FromRocks(rocksdb::DB::Open(opts, DbPath(), &db), "open " + DbPath()));
  db_.reset(db);
  return absl::OkStatus();
}

void RocksDbBackend::CloseDb() {
  if (db_) {
    (void)db_->Close();
    db_.reset();
  }
}

absl::Status RocksDbBackend::Write(const WriteBatch& batch) {
  if (!db_) return Closed();
  rocksdb::WriteBatch wb;
  for (const auto& op : batch.ops) {
    rocksdb::Status s =
        op.value ? wb.Put(ToSlice(op.key), ToSlice(*op.value)) : wb.Delete(ToSlice(op.key));
    VIGIL_RETURN_IF_ERROR(FromRocks(s, "batch"));
  }
  rocksdb::WriteOptions wo;
  wo.sync = false;  // the checkpoint is the durability point
  return FromRocks(db_->Write(wo, &wb), "write");
}

absl::StatusOr<std::optional<std::string>> RocksDbBackend::Get(std::string_view key) {
  if (!db_) return Closed();
  std::string value;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), ToSlice(key), &value);
  if (s.IsNotFound()) return std::optional<std::string>();
  VIGIL_RETURN_IF_ERROR(FromRocks(s, "get"));
  return std::optional<std::string>(std::move(value));
}

absl::Status RocksDbBackend::Scan(std::string_view prefix, const ScanFn& fn) {
  if (!db_) return Closed();
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  for (it->Seek(ToSlice(prefix)); it->Valid(); it->Next()) {
    std::string_view k = ToView(it->key());
    if (!k.starts_with(prefix)) break;
    if (!fn(k, ToView(it->value()))) break;
  }
  return FromRocks(it->status(), "scan");
}

absl::Status RocksDbBackend::ScanRange(std::string_view begin, std::string_view end,
                                       const ScanFn& fn) {
  if (!db_) return Closed();
  rocksdb::ReadOptions ro;
  rocksdb::Slice upper = ToSlice(end);
  if (!end.empty()) ro.iterate_upper_bound = &upper;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro));
  for (it->Seek(ToSlice(begin)); it->Valid(); it->Next()) {
    if (!fn(ToView(it->key()), ToView(it->value()))) break;
  }
  return FromRocks(it->status(), "scan");
}

uint64_t RocksDbBackend::ApproximateSize() {
  if (!db_) return 0;
  uint64_t live = 0, mem = 0;
  db_->GetIntProperty("rocksdb.estimate-live-data-size", &live);
  db_->GetIntProperty("rocksdb.cur-size-all-mem-tables", &mem);
  return live + mem;
}

absl::Status RocksDbBackend::Clear() {
  CloseDb();
  VIGIL_RETURN_IF_ERROR(internal::RemoveAll(DbPath()));
  return OpenDb();
}

absl::Status RocksDbBackend::PrepareCheckpoint(uint64_t id) {
  if (!db_) return Closed();
  pending_id_.reset();
  VIGIL_RETURN_IF_ERROR(chk_dir_.CheckNewId(id));
  const std::string path = chk_dir_.PathOf(id);
  VIGIL_RETURN_IF_ERROR(internal::RemoveAll(path));
  VIGIL_RETURN_IF_ERROR(internal::RemoveAll(path + ".tmp"));  // RocksDB's staging folder
  rocksdb::Checkpoint* raw = nullptr;
  VIGIL_RETURN_IF_ERROR(FromRocks(rocksdb::Checkpoint::Create(db_.get(), &raw), "checkpoint"));
  std::unique_ptr<rocksdb::Checkpoint> cp(raw);
  // log_size_for_flush = 0: always flush, so the checkpoint needs no WAL replay.
  VIGIL_RETURN_IF_ERROR(FromRocks(cp->CreateCheckpoint(path, 0), "checkpoint " + path));
  VIGIL_RETURN_IF_ERROR(internal::SyncDir(path));
  pending_id_ = id;
  return absl::OkStatus();
}

absl::StatusOr<CheckpointInfo> RocksDbBackend::CommitCheckpoint(uint64_t id,
                                                                const std::string& metadata) {
  if (pending_id_ != id) {
    return absl::FailedPreconditionError("checkpoint " + std::to_string(id) + " was not prepared");
  }
  pending_id_.reset();
  VIGIL_RETURN_IF_ERROR(chk_dir_.WriteMarker(id, name(), metadata));
  chk_dir_.Retain(options_.retained_checkpoints);
  return CheckpointInfo{id, chk_dir_.PathOf(id), ApproximateSize()};
}

absl::StatusOr<std::optional<RestoredCheckpoint>> RocksDbBackend::RestoreLatest() {
  pending_id_.reset();
  VIGIL_RETURN_IF_ERROR(chk_dir_.RemoveIncomplete());
  VIGIL_ASSIGN_OR_RETURN(std::vector<uint64_t> ids, chk_dir_.ListComplete());
  if (ids.empty()) {
    VIGIL_RETURN_IF_ERROR(Clear());
    return std::optional<RestoredCheckpoint>();
  }
  VIGIL_ASSIGN_OR_RETURN(RestoredCheckpoint restored, chk_dir_.ReadMarker(ids.back(), name()));
  CloseDb();
  const std::string staging = DbPath() + ".restoring";
  VIGIL_RETURN_IF_ERROR(internal::RemoveAll(staging));
  VIGIL_RETURN_IF_ERROR(
      internal::CopyDir(chk_dir_.PathOf(ids.back()), staging, &ImmutableFile, &NotDbFile));
  VIGIL_RETURN_IF_ERROR(internal::RemoveAll(DbPath()));
  if (::rename(staging.c_str(), DbPath().c_str()) != 0) {
    return internal::ErrnoStatus(errno, "rename", staging);
  }
  absl::Status st = OpenDb();
  if (!st.ok()) {
    return absl::DataLossError("checkpoint " + std::to_string(ids.back()) +
                               " cannot be opened: " + std::string(st.message()));
  }
  return std::optional<RestoredCheckpoint>(std::move(restored));
}

absl::StatusOr<std::vector<uint64_t>> RocksDbBackend::ListCheckpoints() {
  return chk_dir_.ListComplete();
}

}  // namespace vigil::engine::state
