// Whole files: read only from regular files whose size is known before a
// byte is read, and written atomically (a temporary file beside the target,
// flushed to disk, then renamed over it).
#include "io_internal.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

namespace xg {
namespace detail {

namespace fs = std::filesystem;

void io_fail(const std::string& path, const std::string& what) {
    throw IoError(path + ": " + what);
}

std::string errno_text(int err) {
    return std::strerror(err);
}

// ---- reading ------------------------------------------------------------------------

InFile::InFile(const std::string& path) : path_(path) {
    // O_NONBLOCK: opening a FIFO must not wait for a writer; it is refused below.
    fd_ = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd_ < 0) io_fail(path, "cannot open: " + errno_text(errno));
    struct stat st;
    if (::fstat(fd_, &st) != 0) {
        const int err = errno;
        ::close(fd_);
        io_fail(path, "cannot open: " + errno_text(err));
    }
    if (!S_ISREG(st.st_mode)) {
        ::close(fd_);
        io_fail(path, S_ISDIR(st.st_mode) ? std::string("is a directory, not a file")
                                          : std::string("is not a regular file (a device, FIFO or socket); "
                                                        "xgrad reads only files whose size it can check first"));
    }
    size_ = std::uint64_t(st.st_size);
}

InFile::~InFile() {
    if (fd_ >= 0) ::close(fd_);
}

std::string InFile::read(std::uint64_t offset, std::size_t n) const {
    std::string buf(n, '\0');
    std::size_t done = 0;
    while (done < n) {
        const ssize_t got = ::pread(fd_, &buf[done], n - done, off_t(offset + done));
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) io_fail(path_, "read error: " + errno_text(errno));
        if (got == 0) io_fail(path_, "read error: the file became shorter while it was read");
        done += std::size_t(got);
    }
    return buf;
}

// ---- writing ------------------------------------------------------------------------

namespace {

/// Write all of `bytes` to fd, then flush it to disk and close it. On failure
/// closes fd, removes `file` and throws IoError naming `path`.
void finish(int fd, const std::string& file, const std::string& path, const std::string& bytes,
            void (*after_write)(void*), void* context) {
    const char* p = bytes.data();
    std::size_t left = bytes.size();
    while (left > 0) {
        const ssize_t n = ::write(fd, p, left);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            const std::string why = n < 0 ? errno_text(errno) : std::string("nothing written");
            ::close(fd);
            ::unlink(file.c_str());
            io_fail(path, "cannot write: " + why);
        }
        p += n;
        left -= std::size_t(n);
    }
    if (after_write) {
        try {
            after_write(context);
        } catch (...) {
            ::close(fd);
            ::unlink(file.c_str());
            throw;
        }
    }
    const bool synced = ::fsync(fd) == 0;
    const int err = errno;
    if (::close(fd) != 0 || !synced) {
        const std::string why = errno_text(synced ? errno : err);
        ::unlink(file.c_str());
        io_fail(path, "cannot write: " + why);
    }
}

}  // namespace

std::string folder_of(const std::string& path) {
    const fs::path p(path);
    return p.has_parent_path() ? p.parent_path().string() : std::string(".");
}

std::string write_temp(const std::string& path, const std::string& bytes) {
    static std::atomic<unsigned> counter{0};
    const std::string dir = folder_of(path), name = fs::path(path).filename().string();
    int fd = -1;
    std::string tmp;
    for (int attempt = 0; attempt < 100 && fd < 0; ++attempt) {
        const std::string tail = "." + std::to_string(::getpid()) + "." + std::to_string(counter++) + ".tmp";
        // ".NAME.PID.N.tmp" must fit in a file name (255 bytes), however long NAME is.
        const std::size_t room = 255 - 1 - tail.size();
        tmp = (fs::path(dir) / ("." + name.substr(0, room) + tail)).string();
        fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd < 0 && errno != EEXIST) io_fail(path, "cannot write: " + errno_text(errno));
    }
    if (fd < 0) io_fail(path, "cannot create a temporary file beside it");
    finish(fd, tmp, path, bytes, nullptr, nullptr);
    return tmp;
}

void write_new_file(const std::string& path, const std::string& bytes, void (*after_write)(void*), void* context) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd < 0) io_fail(path, "cannot write: " + errno_text(errno));
    finish(fd, path, path, bytes, after_write, context);
}

void replace_file(const std::string& tmp, const std::string& target) {
    std::error_code ec;
    if (fs::is_directory(target, ec)) {
        ::unlink(tmp.c_str());
        io_fail(target, "cannot replace: is a directory, not a file");
    }
    if (std::rename(tmp.c_str(), target.c_str()) != 0) {
        const std::string why = errno_text(errno);
        ::unlink(tmp.c_str());
        io_fail(target, "cannot replace: " + why);
    }
}

bool sync_folder(const std::string& dir) {
    const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return false;
    const bool ok = ::fsync(fd) == 0;
    ::close(fd);
    return ok;
}

void write_atomic(const std::string& path, const std::string& bytes) {
    replace_file(write_temp(path, bytes), path);
    sync_folder(folder_of(path));  // best effort: the data itself is already on disk
}

}  // namespace detail
}  // namespace xg
