#include "engine/event_spool.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <boost/crc.hpp>
#include <cerrno>
#include <cstring>
#include <vector>

namespace loa::engine {
namespace {

constexpr char kPending = 'P';
constexpr char kDelivered = 'D';
constexpr std::size_t kHeader = 9;  // state(1) length(4) crc32(4)
// One results stream entry stays well under Redis' 512 MB bulk limit; a larger length in a
// header can only be a torn or corrupt record.
constexpr std::uint32_t kMaxRecord = 64u << 20;

std::uint32_t crc32(std::string_view data) {
  boost::crc_32_type crc;  // the CRC-32 of IEEE 802.3 and zlib
  crc.process_bytes(data.data(), data.size());
  return crc.checksum();
}

void put_u32(char* out, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) out[i] = static_cast<char>((v >> (8 * i)) & 0xff);
}
std::uint32_t get_u32(const char* in) {
  std::uint32_t v = 0;
  for (int i = 0; i < 4; ++i)
    v |= static_cast<std::uint32_t>(static_cast<unsigned char>(in[i])) << (8 * i);
  return v;
}

// pread or pwrite of all `n` bytes at `offset`, through EINTR and short transfers.
template <class Transfer, class Byte>
bool transfer_all(Transfer transfer, int fd, Byte* data, std::size_t n, std::uint64_t offset) {
  while (n > 0) {
    const ssize_t r = transfer(fd, data, n, static_cast<off_t>(offset));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    data += r;
    n -= static_cast<std::size_t>(r);
    offset += static_cast<std::uint64_t>(r);
  }
  return true;
}

bool pread_all(int fd, char* out, std::size_t n, std::uint64_t offset) {
  return transfer_all(::pread, fd, out, n, offset);
}
bool pwrite_all(int fd, const char* in, std::size_t n, std::uint64_t offset) {
  return transfer_all(::pwrite, fd, in, n, offset);
}

}  // namespace

EventSpool::EventSpool(std::filesystem::path file, std::uint64_t max_bytes)
    : file_(std::move(file)), max_bytes_(max_bytes) {
  std::error_code ec;
  if (file_.has_parent_path()) std::filesystem::create_directories(file_.parent_path(), ec);
  fd_ = ::open(file_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd_ < 0)
    throw SpoolError("cannot open the spool " + file_.string() + ": " + std::strerror(errno));
  recover();
}

EventSpool::~EventSpool() {
  if (fd_ >= 0) ::close(fd_);
}

void EventSpool::recover() {
  const off_t end = ::lseek(fd_, 0, SEEK_END);
  if (end < 0)
    throw SpoolError("cannot read the spool " + file_.string() + ": " + std::strerror(errno));
  const auto file_size = static_cast<std::uint64_t>(end);
  std::uint64_t at = 0;
  std::vector<char> payload;
  while (at + kHeader <= file_size) {
    char header[kHeader];
    if (!pread_all(fd_, header, kHeader, at)) break;
    const std::uint32_t length = get_u32(header + 1);
    if ((header[0] != kPending && header[0] != kDelivered) || length > kMaxRecord ||
        at + kHeader + length > file_size)
      break;
    payload.resize(length);
    if (length > 0 && !pread_all(fd_, payload.data(), length, at + kHeader)) break;
    if (crc32({payload.data(), length}) != get_u32(header + 5)) break;
    if (header[0] == kPending) pending_.push_back({at, length});
    at += kHeader + length;
  }
  // A torn tail was never acknowledged (append fsyncs before it answers): cut it off, and
  // start afresh when nothing is pending.
  const std::uint64_t keep = pending_.empty() ? 0 : at;
  if (keep != file_size && ::ftruncate(fd_, static_cast<off_t>(keep)) != 0)
    throw SpoolError("cannot truncate the spool " + file_.string() + ": " + std::strerror(errno));
  size_ = keep;
}

bool EventSpool::append(std::string_view payload) {
  if (payload.size() > kMaxRecord) return false;
  std::string record(kHeader, '\0');
  record[0] = kPending;
  put_u32(record.data() + 1, static_cast<std::uint32_t>(payload.size()));
  put_u32(record.data() + 5, crc32(payload));
  record.append(payload);
  std::lock_guard lock(mutex_);
  if (size_ + record.size() > max_bytes_) return false;
  if (!pwrite_all(fd_, record.data(), record.size(), size_) || ::fdatasync(fd_) != 0) {
    // ENOSPC or EIO: whatever reached the file is past size_ and is overwritten by the next
    // append, or cut off as a torn record when the file is next opened.
    return false;
  }
  pending_.push_back({size_, static_cast<std::uint32_t>(payload.size())});
  size_ += record.size();
  return true;
}

std::optional<std::string> EventSpool::front() {
  std::lock_guard lock(mutex_);
  if (pending_.empty()) return std::nullopt;
  const Record r = pending_.front();
  std::string out(r.length, '\0');
  if (r.length > 0 && !pread_all(fd_, out.data(), r.length, r.offset + kHeader))
    return std::nullopt;
  return out;
}

void EventSpool::pop() {
  std::lock_guard lock(mutex_);
  if (pending_.empty()) return;
  const Record r = pending_.front();
  pending_.pop_front();
  if (pending_.empty()) {
    // Everything delivered: the file starts again from nothing.
    if (::ftruncate(fd_, 0) == 0) {
      ::fdatasync(fd_);
      size_ = 0;
      return;
    }
  }
  // If this mark does not reach the disk, the record is delivered again after a restart:
  // at least once, and the store drops the duplicate.
  if (pwrite_all(fd_, &kDelivered, 1, r.offset)) ::fdatasync(fd_);
}

std::size_t EventSpool::pending() const {
  std::lock_guard lock(mutex_);
  return pending_.size();
}

std::uint64_t EventSpool::bytes() const {
  std::lock_guard lock(mutex_);
  return size_;
}

}  // namespace loa::engine
