#include "core/prefault.hpp"

#include <link.h>
#include <malloc.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>

#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22  // Linux 5.14
#endif
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23  // Linux 5.14
#endif

namespace lockbox {

void prefault_heap(std::size_t bytes) {
  // Keep the heap contiguous and un-trimmed: allocations below the mmap threshold come from it
  // (not from a fresh mmap each), and freed memory is not given back just to be faulted in again.
  mallopt(M_MMAP_THRESHOLD, static_cast<int>(bytes * 2));
  // One arena: a helper thread (OpenSSL warm-up) allocates from this populated heap too, instead
  // of faulting in a fresh 64 MiB arena of its own.
  mallopt(M_ARENA_MAX, 1);
  mallopt(M_TRIM_THRESHOLD, static_cast<int>(bytes * 4));
  // A block of `bytes` forces the heap to grow by at least that much; populate all of it.
  void* block = std::malloc(bytes);
  if (block == nullptr) return;
  const long page = sysconf(_SC_PAGESIZE);
  const auto begin = reinterpret_cast<std::uintptr_t>(block) & ~static_cast<std::uintptr_t>(page - 1);
  const auto end = reinterpret_cast<std::uintptr_t>(sbrk(0));
  if (end > begin) (void)madvise(reinterpret_cast<void*>(begin), end - begin, MADV_POPULATE_WRITE);
  std::free(block);
}

void prefault_executable() {
  dl_iterate_phdr(
      [](dl_phdr_info* info, std::size_t, void*) -> int {
        const long page = sysconf(_SC_PAGESIZE);
        for (int i = 0; i < info->dlpi_phnum; ++i) {
          const ElfW(Phdr)& ph = info->dlpi_phdr[i];
          if (ph.p_type != PT_LOAD) continue;
          const std::uintptr_t start = (info->dlpi_addr + ph.p_vaddr) & ~static_cast<std::uintptr_t>(page - 1);
          const std::uintptr_t end = info->dlpi_addr + ph.p_vaddr + ph.p_memsz;
          (void)madvise(reinterpret_cast<void*>(start), end - start,
                        (ph.p_flags & PF_W) != 0 ? MADV_POPULATE_WRITE : MADV_POPULATE_READ);
        }
        return 1;  // the first object is the executable itself
      },
      nullptr);
}

}  // namespace lockbox
