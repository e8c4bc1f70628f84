// A route's local spool: the append-only file where a webhook's events wait, fsynced, while
// Redis is down, so that the webhook may answer 2xx only for what is durable (issue [W2 1/9]:
// an opt-out answered 200 and then lost with an in-memory buffer). Its receipt relay drains it
// into the route's results stream, oldest first, when Redis is back (engine/receipt_relay.hpp).
//
// Format: records one after another, each `state(1) length(4, LE) crc32(4, LE) payload`, where
// state is 'P' (pending) or 'D' (delivered) and the CRC-32 (IEEE 802.3, as zlib's) covers the
// payload. A payload is one results stream entry (campaigns/outbox_event.hpp encode_events).
//
// Contract:
//  - append() writes one record and fdatasyncs the file before it returns true; after true the
//    record survives a kill of the process (and, with the fsync, a power loss). It returns
//    false, appending nothing, when the file would exceed `max_bytes` or the write fails
//    (ENOSPC): the caller then answers 503 and the gateway retries.
//  - front() is the oldest pending record; pop() marks it delivered (one byte, fdatasynced).
//    A record delivered to Redis but not yet marked (a kill in between) is delivered again
//    after a restart: at least once. The store drops duplicates (replies by provider id,
//    receipts by the message's state).
//  - When the last pending record is popped, the file is truncated to nothing.
//  - Opening scans the file: a torn last record (a kill during append, never acknowledged) and
//    anything after it is cut off.
//
// Thread-safety: every member is safe from any thread (one mutex); append and pop block on
// fsync, for a few milliseconds.
#pragma once

#include <cstdint>
#include <deque>
#include <filesystem>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace loa::engine {

class SpoolError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class EventSpool {
 public:
  // Opens (creating) `file` and recovers its pending records; throws SpoolError when the file
  // cannot be opened or read.
  EventSpool(std::filesystem::path file, std::uint64_t max_bytes);
  ~EventSpool();
  EventSpool(const EventSpool&) = delete;
  EventSpool& operator=(const EventSpool&) = delete;

  bool append(std::string_view payload);
  std::optional<std::string> front();
  void pop();

  std::size_t pending() const;
  std::uint64_t bytes() const;  // the file's size, what max_bytes bounds
  const std::filesystem::path& file() const { return file_; }

 private:
  struct Record {
    std::uint64_t offset;
    std::uint32_t length;
  };
  void recover();

  const std::filesystem::path file_;
  const std::uint64_t max_bytes_;
  mutable std::mutex mutex_;
  int fd_ = -1;
  std::uint64_t size_ = 0;      // guarded by mutex_
  std::deque<Record> pending_;  // guarded by mutex_
};

}  // namespace loa::engine
