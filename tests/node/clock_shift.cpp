// A test-only LD_PRELOAD library: steps the wall clock of the process it is loaded into by an
// offset the test changes while the process runs, as NTP or an operator stepping a real clock
// would. CLOCK_REALTIME (and its coarse, alarm and TAI variants), gettimeofday() and time()
// are shifted; CLOCK_MONOTONIC, CLOCK_BOOTTIME and the CPU clocks are not — a real step leaves
// them alone too.
//
// The offset is a signed 64-bit count of milliseconds at the start of the file named by
// ORDO_CLOCK_SHIFT_FILE, mapped shared: the test stores a new value atomically into its own
// mapping of the file, and the next clock call here sees it (no cache, no re-reading).
//
// Why not libfaketime (Debian's faketime): it cannot start a process linked with jemalloc, as
// ordo-node is — its initialisation calls dlsym(), which allocates, and jemalloc's
// initialisation calls clock_gettime() back into the not yet initialised libfaketime; the node
// hangs at start ("Unexpected recursive calls to clock_gettime() without proper
// initialization", wolfcw/libfaketime#130, no fix upstream). This library never allocates
// and never needs dlsym() to answer: until its constructor has looked up the real
// clock_gettime (the vDSO one), it asks the kernel directly.
#include <dlfcn.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>

namespace {

using clock_gettime_fn = int (*)(clockid_t, timespec*);

clock_gettime_fn real_clock_gettime = nullptr; // set once by the constructor
const int64_t* offset_ms = nullptr;            // the shared mapping; null: no shift

int real_now(clockid_t id, timespec* ts) {
  auto f = __atomic_load_n(&real_clock_gettime, __ATOMIC_ACQUIRE);
  if (f != nullptr) return f(id, ts);
  return static_cast<int>(::syscall(SYS_clock_gettime, id, ts));
}

bool is_wall(clockid_t id) {
  return id == CLOCK_REALTIME || id == CLOCK_REALTIME_COARSE || id == CLOCK_TAI ||
         id == CLOCK_REALTIME_ALARM;
}

int64_t current_offset_ms() {
  auto p = __atomic_load_n(&offset_ms, __ATOMIC_ACQUIRE);
  return p == nullptr ? 0 : __atomic_load_n(p, __ATOMIC_RELAXED);
}

void shift(timespec* ts, int64_t ms) {
  int64_t ns = static_cast<int64_t>(ts->tv_nsec) + (ms % 1000) * 1'000'000;
  int64_t s = static_cast<int64_t>(ts->tv_sec) + ms / 1000;
  if (ns < 0) {
    ns += 1'000'000'000;
    --s;
  } else if (ns >= 1'000'000'000) {
    ns -= 1'000'000'000;
    ++s;
  }
  ts->tv_sec = static_cast<time_t>(s);
  ts->tv_nsec = static_cast<long>(ns);
}

__attribute__((constructor)) void clock_shift_init() {
  // dlsym may allocate; a clock call from the allocator meanwhile takes the syscall path.
  auto f = reinterpret_cast<clock_gettime_fn>(::dlsym(RTLD_NEXT, "clock_gettime"));
  if (f != nullptr) __atomic_store_n(&real_clock_gettime, f, __ATOMIC_RELEASE);
  const char* path = std::getenv("ORDO_CLOCK_SHIFT_FILE");
  if (path == nullptr) return;
  int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  void* m = ::mmap(nullptr, sizeof(int64_t), PROT_READ, MAP_SHARED, fd, 0);
  ::close(fd);
  if (m != MAP_FAILED)
    __atomic_store_n(&offset_ms, static_cast<const int64_t*>(m), __ATOMIC_RELEASE);
}

} // namespace

extern "C" {

int clock_gettime(clockid_t id, timespec* ts) noexcept {
  int rc = real_now(id, ts);
  if (rc == 0 && is_wall(id)) shift(ts, current_offset_ms());
  return rc;
}

int gettimeofday(struct timeval* __restrict tv, void* __restrict) noexcept {
  timespec ts{};
  int rc = clock_gettime(CLOCK_REALTIME, &ts);
  if (rc != 0) return rc;
  tv->tv_sec = ts.tv_sec;
  tv->tv_usec = static_cast<suseconds_t>(ts.tv_nsec / 1000);
  return 0;
}

time_t time(time_t* out) noexcept {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  if (out != nullptr) *out = ts.tv_sec;
  return ts.tv_sec;
}

} // extern "C"
