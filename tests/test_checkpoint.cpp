// Checkpoints (save_parameters, load_parameters, checkpoint_info): a
// checkpoint is one unit. A reader sees the whole old set of values or the
// whole new one — after a save that fails at any step, is killed at any
// step, or meets a file it cannot replace or remove — never a mix; a set
// that does not match its manifest is refused and nothing is assigned; the
// leftovers of an interrupted save are ignored and cleaned up; a save never
// removes a file the checkpoint does not own; a folder of the old layout
// still loads.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <linux/fs.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <map>
#include <random>

#include <xtensor/xnpy.hpp>

#include "helpers.hpp"
#include "temp_files.hpp"

using xg::Matrix;
using namespace xgt;
namespace fs = std::filesystem;

namespace {

using P = xg::Parameter<double>;
using Set = std::vector<P>;

/// W1 (4x2), b1 (4x1), W2 (1x4), with values that differ from set to set
/// and from file to file (v, v + 0.01, v + 0.02, …).
Set make_set(double v) {
    Set s{P(Matrix<double>(xt::zeros<double>({4, 2})), "W1"), P(Matrix<double>(xt::zeros<double>({4, 1})), "b1"),
          P(Matrix<double>(xt::zeros<double>({1, 4})), "W2")};
    double x = v;
    for (P& p : s) {
        for (double& e : p.value()) e = (x += 0.01);
    }
    return s;
}

/// Parameters of the same names and shapes, every value 9.
Set blank_set() {
    Set s = make_set(0);
    for (P& p : s) p.value().fill(9.0);
    return s;
}

std::vector<double> values(const Set& s) {
    std::vector<double> out;
    for (const P& p : s) out.insert(out.end(), p.value().begin(), p.value().end());
    return out;
}

bool untouched(const Set& s) {
    for (double v : values(s)) {
        if (v != 9.0) return false;
    }
    return true;
}

/// Every file and folder under `dir` with its bytes: what a save must not change.
std::map<std::string, std::string> tree(const std::string& dir) {
    std::map<std::string, std::string> out;
    for (const auto& e : fs::recursive_directory_iterator(dir)) {
        out[fs::relative(e.path(), dir).string()] = e.is_directory() ? std::string("<folder>") : read_bytes(e.path());
    }
    return out;
}

/// The names in `dir`, sorted.
std::vector<std::string> names_in(const std::string& dir) {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(dir)) out.push_back(e.path().filename().string());
    std::sort(out.begin(), out.end());
    return out;
}

/// A checkpoint folder that holds exactly one generation, `gen`, with the files of make_set.
void check_tidy(const std::string& ckpt, const std::string& gen) {
    CHECK(names_in(ckpt) == std::vector<std::string>{gen, "xgrad-manifest.txt"});
    CHECK(names_in(ckpt + "/" + gen) == std::vector<std::string>{"W1.npy", "W2.npy", "b1.npy"});
}

/// The file as the system's own `sha256sum` hashes it.
std::string sha256sum(const std::string& path) {
    std::FILE* p = ::popen(("sha256sum '" + path + "'").c_str(), "r");
    REQUIRE(p != nullptr);
    char buf[65] = {};
    const std::size_t n = std::fread(buf, 1, 64, p);
    ::pclose(p);
    return std::string(buf, n);
}

/// chattr +i for the object's life: the file (or folder) cannot be changed,
/// replaced or removed, even by root. ok() is false where the file system
/// or the user's rights do not allow it.
class Immutable {
public:
    explicit Immutable(std::string path) : path_(std::move(path)) { ok_ = set(true); }
    ~Immutable() {
        if (ok_) set(false);
    }
    Immutable(const Immutable&) = delete;
    Immutable& operator=(const Immutable&) = delete;
    bool ok() const { return ok_; }

private:
    bool set(bool on) {
        const int fd = ::open(path_.c_str(), O_RDONLY | O_NONBLOCK);
        if (fd < 0) return false;
        int flags = 0;
        bool done = ::ioctl(fd, FS_IOC_GETFLAGS, &flags) == 0;
        if (done) {
            flags = on ? flags | FS_IMMUTABLE_FL : flags & ~FS_IMMUTABLE_FL;
            done = ::ioctl(fd, FS_IOC_SETFLAGS, &flags) == 0;
        }
        ::close(fd);
        return done;
    }
    std::string path_;
    bool ok_ = false;
};

// The test hooks: make step `trigger` of the next save kill the process or throw.
int trigger = -1;
std::vector<std::string> steps_seen;

void kill_hook(int step, const char*) {
    if (step == trigger) ::raise(SIGKILL);
}

void throw_hook(int step, const char* done) {
    steps_seen.push_back(done);
    if (step == trigger) throw xg::IoError(std::string("injected failure after the step: ") + done);
}

struct HookGuard {
    explicit HookGuard(void (*hook)(int, const char*)) { xg::detail::checkpoint_step_hook = hook; }
    ~HookGuard() { xg::detail::checkpoint_step_hook = nullptr; }
};

/// The old checkpoint a test saves over: written by save_parameters, or in
/// the old layout (DIR/NAME.npy, no manifest).
void write_old(const std::string& ckpt, const Set& s, bool old_layout) {
    if (!old_layout) return xg::save_parameters(ckpt, s);
    fs::create_directories(ckpt);
    for (const P& p : s) xg::save_npy(ckpt + "/" + p.name() + ".npy", p.value());
}

}  // namespace

TEST_CASE_TEMPLATE("save_parameters then load_parameters round-trips every bit, gradients untouched", T, float,
                   double) {
    TempDir dir;
    std::mt19937_64 rng(16);
    std::vector<xg::Parameter<T>> saved{xg::Parameter<T>(randn<T>(4, 2, rng), "W1"),
                                        xg::Parameter<T>(randn<T>(4, 1, rng), "b1"),
                                        xg::Parameter<T>(randn<T>(1, 4, rng), "W2")};
    saved[0].value()(0, 0) = std::numeric_limits<T>::denorm_min();
    saved[0].value()(0, 1) = T(-0.0);
    saved[1].value()(1, 0) = std::numeric_limits<T>::max();
    xg::save_parameters(dir / "ckpt", saved);
    CHECK(dir.entries("ckpt") == std::vector<std::string>{"xgrad-gen-1", "xgrad-manifest.txt"});
    CHECK(dir.entries("ckpt/xgrad-gen-1") == std::vector<std::string>{"W1.npy", "W2.npy", "b1.npy"});

    std::vector<xg::Parameter<T>> fresh{xg::Parameter<T>(Matrix<T>(xt::zeros<T>({4, 2})), "W1"),
                                        xg::Parameter<T>(Matrix<T>(xt::zeros<T>({4, 1})), "b1"),
                                        xg::Parameter<T>(Matrix<T>(xt::zeros<T>({1, 4})), "W2")};
    fresh[0].grad().fill(T(7));
    const T* buffer = fresh[0].value().data();
    xg::load_parameters(dir / "ckpt", fresh);
    for (std::size_t i = 0; i < saved.size(); ++i) {
        CHECK(std::memcmp(fresh[i].value().data(), saved[i].value().data(), saved[i].value().size() * sizeof(T)) == 0);
    }
    CHECK(fresh[0].value().data() == buffer);  // loaded in place
    CHECK(fresh[0].grad()(0, 0) == T(7));

    // The files are plain .npy files (numpy and xtensor read them), listed with their checksums.
    const xg::CheckpointInfo info = xg::checkpoint_info(dir / "ckpt");
    CHECK(info.manifest == dir / "ckpt/xgrad-manifest.txt");
    REQUIRE(info.files.size() == 3);
    const xg::CheckpointFile* b1 = info.find("b1");
    REQUIRE(b1 != nullptr);
    CHECK(info.find("b2") == nullptr);
    CHECK(b1->name == "b1");
    CHECK(b1->path == dir / "ckpt/xgrad-gen-1/b1.npy");
    CHECK(b1->descr == (sizeof(T) == 8 ? "<f8" : "<f4"));
    CHECK(b1->shape == xg::Shape{4, 1});
    CHECK(b1->bytes == fs::file_size(b1->path));
    CHECK(b1->sha256 == sha256sum(b1->path));
    const auto back = xt::load_npy<T>(info.files[0].path);
    CHECK(std::memcmp(back.data(), saved[0].value().data(), 8 * sizeof(T)) == 0);
}

TEST_CASE("a save killed at any step leaves the whole old checkpoint or the whole new one, and the next save tidies up") {
    TempDir dir;
    const Set old_set = make_set(1.0), new_set = make_set(2.0);
    for (const bool old_layout : {false, true}) {
        CAPTURE(old_layout);
        int saw_old = 0, saw_new = 0, k = 0;
        for (bool completed = false; !completed; ++k) {
            REQUIRE(k < 100);
            CAPTURE(k);
            const std::string ckpt = dir / ((old_layout ? "flat" : "ckpt") + std::to_string(k));
            write_old(ckpt, old_set, old_layout);
            std::fflush(nullptr);
            const pid_t child = ::fork();
            REQUIRE(child >= 0);
            if (child == 0) {
                trigger = k;
                xg::detail::checkpoint_step_hook = kill_hook;
                try {
                    xg::save_parameters(ckpt, new_set);
                } catch (...) {
                    ::_exit(2);
                }
                ::_exit(0);
            }
            int status = 0;
            REQUIRE(::waitpid(child, &status, 0) == child);
            completed = WIFEXITED(status) && WEXITSTATUS(status) == 0;
            REQUIRE((completed || (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)));

            Set got = blank_set();
            xg::load_parameters(ckpt, got);  // never an error
            if (values(got) == values(old_set)) {
                ++saw_old;
                CHECK(!completed);
            } else if (values(got) == values(new_set)) {
                ++saw_new;
            } else {
                FAIL_CHECK("a mix of the old and the new checkpoint");
            }
            // Whatever the crash left, the next save leaves one generation and nothing else.
            xg::save_parameters(ckpt, old_set);
            Set again = blank_set();
            xg::load_parameters(ckpt, again);
            CHECK(values(again) == values(old_set));
            const std::vector<std::string> names = names_in(ckpt);
            REQUIRE(names.size() == 2);
            check_tidy(ckpt, names[0]);
        }
        MESSAGE(std::string(old_layout ? "old layout" : "manifest") << ": killed at each of " << k - 1
                                                          << " steps, then a complete save; the old checkpoint loaded "
                                                          << saw_old << " times, the new one " << saw_new << " times");
        CHECK(saw_old > 0);
        CHECK(saw_new > 1);
    }
}

TEST_CASE("a save that fails at any step before the switch leaves the folder exactly as it was") {
    TempDir dir;
    const Set old_set = make_set(1.0), new_set = make_set(2.0);
    // The steps of one save, and where the switch is.
    xg::save_parameters(dir / "count", old_set);
    steps_seen.clear();
    {
        const HookGuard hook(throw_hook);
        trigger = -1;
        xg::save_parameters(dir / "count", new_set);
    }
    const std::vector<std::string> steps = steps_seen;
    const auto sw = std::find_if(steps.begin(), steps.end(),
                                 [](const std::string& s) { return s.find("the switch") != std::string::npos; });
    REQUIRE(sw != steps.end());
    const int switch_step = int(sw - steps.begin());
    CHECK(switch_step == 1 + 2 * 3 + 2);  // folder, 2 per file, folder flushed, temporary manifest

    for (int k = 0; k < int(steps.size()); ++k) {
        CAPTURE(k);
        CAPTURE(steps[std::size_t(k)]);
        const std::string ckpt = dir / ("c" + std::to_string(k));
        xg::save_parameters(ckpt, old_set);
        const auto before = tree(ckpt);
        bool threw = false;
        {
            const HookGuard hook(throw_hook);
            trigger = k;
            try {
                xg::save_parameters(ckpt, new_set);
            } catch (const xg::IoError& e) {
                threw = true;
                CHECK(has(e.what(), "injected failure"));
            }
        }
        Set got = blank_set();
        xg::load_parameters(ckpt, got);
        if (k < switch_step) {
            CHECK(threw);
            CHECK(values(got) == values(old_set));
            CHECK(tree(ckpt) == before);  // no new generation, no temporary
        } else {
            CHECK(!threw);  // after the switch the new checkpoint is in place
            CHECK(values(got) == values(new_set));
        }
    }
}

TEST_CASE("a file that cannot be replaced or removed (chattr +i) never leaves a mixed checkpoint") {
    TempDir dir;
    const Set old_set = make_set(1.0), new_set = make_set(2.0);
    {
        Immutable probe(dir.path().string());
        if (!probe.ok()) {
            MESSAGE("chattr +i is not available here (file system or rights): the injected failures above cover it");
            return;
        }
    }
    // The manifest cannot be replaced: the save fails, the old checkpoint loads whole.
    xg::save_parameters(dir / "m", old_set);
    {
        const auto before = tree(dir / "m");
        Immutable lock(dir / "m/xgrad-manifest.txt");
        REQUIRE(lock.ok());
        const std::string msg = thrown<xg::IoError>([&] { xg::save_parameters(dir / "m", new_set); });
        CHECK(msg == dir / "m/xgrad-manifest.txt" + ": cannot replace: Operation not permitted");
        Set got = blank_set();
        xg::load_parameters(dir / "m", got);
        CHECK(values(got) == values(old_set));
        CHECK(tree(dir / "m") == before);
    }
    // A file of the current generation cannot be removed: the save succeeds,
    // the old generation stays behind until a later save can remove it.
    {
        Immutable lock(dir / "m/xgrad-gen-1/b1.npy");
        REQUIRE(lock.ok());
        xg::save_parameters(dir / "m", new_set);
        Set got = blank_set();
        xg::load_parameters(dir / "m", got);
        CHECK(values(got) == values(new_set));
        CHECK(names_in(dir / "m") == std::vector<std::string>{"xgrad-gen-1", "xgrad-gen-2", "xgrad-manifest.txt"});
    }
    xg::save_parameters(dir / "m", new_set);
    check_tidy(dir / "m", "xgrad-gen-3");
    // The old layout, b1.npy immutable (where each file used to be renamed in
    // turn, W1.npy was replaced and b1.npy not: a mix that loaded silently).
    write_old(dir / "flat", old_set, true);
    {
        Immutable lock(dir / "flat/b1.npy");
        REQUIRE(lock.ok());
        xg::save_parameters(dir / "flat", new_set);
        Set got = blank_set();
        xg::load_parameters(dir / "flat", got);
        CHECK(values(got) == values(new_set));
        CHECK(names_in(dir / "flat") == std::vector<std::string>{"b1.npy", "xgrad-gen-1", "xgrad-manifest.txt"});
    }
    xg::save_parameters(dir / "flat", new_set);  // the manifest listed b1.npy as still to be removed
    check_tidy(dir / "flat", "xgrad-gen-2");
    // The folder itself cannot be changed: nothing can be written.
    {
        Immutable lock(dir / "m");
        REQUIRE(lock.ok());
        CHECK(has(thrown<xg::IoError>([&] { xg::save_parameters(dir / "m", old_set); }),
                  dir / "m/xgrad-gen-4: cannot create the folder: Operation not permitted"));
        Set got = blank_set();
        xg::load_parameters(dir / "m", got);
        CHECK(values(got) == values(new_set));
    }
}

TEST_CASE("a checkpoint whose files or manifest disagree is refused, naming the file, and nothing is assigned") {
    TempDir dir;
    xg::save_parameters(dir / "other", make_set(5.0));
    const auto fresh = [&](const std::string& name) {
        xg::save_parameters(dir / name, make_set(1.0));
        return dir / name;
    };
    const auto refused = [&](const std::string& ckpt) {
        Set got = blank_set();
        const std::string msg = thrown<xg::IoError>([&] { xg::load_parameters(ckpt, got); });
        CHECK(untouched(got));
        return msg;
    };
    const std::string mismatch = " does not match the checkpoint's manifest: ";

    // One byte of a file changed.
    std::string c = fresh("edited");
    std::string b1 = read_bytes(c + "/xgrad-gen-1/b1.npy");
    b1.back() = char(b1.back() ^ 1);
    write_bytes(c + "/xgrad-gen-1/b1.npy", b1);
    CHECK(has(refused(c), c + "/xgrad-gen-1/b1.npy" + mismatch + "its SHA-256 is "));

    // A file of another checkpoint, of the same name and size, put in its place.
    c = fresh("swapped");
    fs::copy_file(dir / "other/xgrad-gen-1/b1.npy", c + "/xgrad-gen-1/b1.npy", fs::copy_options::overwrite_existing);
    CHECK(has(refused(c), c + "/xgrad-gen-1/b1.npy" + mismatch + "its SHA-256 is "));
    CHECK(has(refused(c), "(the file was changed, or replaced by another, after the checkpoint was saved)"));

    // A file missing, or cut short.
    c = fresh("missing");
    fs::remove(c + "/xgrad-gen-1/W2.npy");
    CHECK(refused(c) == c + "/xgrad-gen-1/W2.npy" + mismatch + "the manifest lists it, but it is missing");
    c = fresh("cut");
    const std::string w1 = read_bytes(c + "/xgrad-gen-1/W1.npy");
    write_bytes(c + "/xgrad-gen-1/W1.npy", w1.substr(0, w1.size() - 8));
    CHECK(refused(c) == c + "/xgrad-gen-1/W1.npy" + mismatch + "it has 184 bytes, the manifest says 192 (the file is truncated)");

    // The manifest cut at any length.
    c = fresh("manifest");
    const std::string manifest = read_bytes(c + "/xgrad-manifest.txt");
    for (std::size_t n = 0; n < manifest.size(); ++n) {
        CAPTURE(n);
        write_bytes(c + "/xgrad-manifest.txt", manifest.substr(0, n));
        const std::string msg = refused(c);
        CHECK(has(msg, c + "/xgrad-manifest.txt: "));
        CHECK((has(msg, "truncated") || has(msg, "not an xgrad checkpoint manifest") || has(msg, "corrupt")));
    }
    write_bytes(c + "/xgrad-manifest.txt", manifest.substr(0, manifest.rfind("parameter W2")));
    CHECK(refused(c) == c + "/xgrad-manifest.txt: corrupt checkpoint manifest: line 4: the manifest is truncated: it "
                            "stops before its 'end' line");

    // The manifest edited: a shape, a checksum, a size, a line removed, a file outside its folder.
    const auto edited = [&](const std::string& from, const std::string& to) {
        std::string m = manifest;
        REQUIRE(m.find(from) != std::string::npos);
        m.replace(m.find(from), from.size(), to);
        write_bytes(c + "/xgrad-manifest.txt", m);
        return refused(c);
    };
    CHECK(edited("shape 4x2", "shape 2x4") ==
          c + "/xgrad-gen-1/W1.npy" + mismatch + "it holds a 4x2 <f8 array, the manifest says 2x4 <f8");
    CHECK(has(edited("bytes 160", "bytes 168"), c + "/xgrad-gen-1/b1.npy" + mismatch + "it has 160 bytes, the manifest says 168"));
    const std::size_t sha_at = manifest.find("sha256 ") + 7;
    CHECK(has(edited(manifest.substr(sha_at, 8), manifest[sha_at] == '0' ? "1" + manifest.substr(sha_at + 1, 7)
                                                                          : "0" + manifest.substr(sha_at + 1, 7)),
              c + "/xgrad-gen-1/W1.npy" + mismatch + "its SHA-256 is "));
    const std::size_t b1_line = manifest.find("parameter b1"), b1_end = manifest.find('\n', b1_line) + 1;
    CHECK(edited(manifest.substr(b1_line, b1_end - b1_line), "") ==
          c + "/xgrad-manifest.txt: corrupt checkpoint manifest: line 5: the manifest ends saying it lists 3 "
              "parameters, but it lists 2 (lines are missing or were added)");
    CHECK(has(edited("file xgrad-gen-1/W1.npy", "file ../other/xgrad-gen-1/W1.npy"),
              "line 3: the file of 'W1' is '../other/xgrad-gen-1/W1.npy', not xgrad-gen-1/W1.npy"));
    CHECK(edited("xgrad checkpoint 1", "xgrad checkpoint 2") ==
          c + "/xgrad-manifest.txt: checkpoint manifest of format '2'; this version of xgrad reads format 1");

    // A parameter the checkpoint does not hold.
    c = fresh("fewer");
    Set more = blank_set();
    more.push_back(P(Matrix<double>{{9.0}}, "b2"));
    CHECK(thrown<xg::IoError>([&] { xg::load_parameters(c, more); }) ==
          c + "/xgrad-manifest.txt: the checkpoint has no parameter named 'b2' (it holds W1, b1, W2)");
    CHECK(untouched(more));

    // A file that is not a manifest: not loaded, and not replaced.
    c = dir / "foreign";
    fs::create_directories(c);
    write_bytes(c + "/xgrad-manifest.txt", "my notes\n");
    CHECK(refused(c) == c + "/xgrad-manifest.txt: not an xgrad checkpoint manifest (its first line is not 'xgrad "
                            "checkpoint 1')");
    CHECK(thrown<xg::IoError>([&] { xg::save_parameters(c, make_set(1.0)); }) ==
          c + "/xgrad-manifest.txt: is not an xgrad checkpoint manifest, and save_parameters does not replace a "
              "file it did not write");
    CHECK(read_bytes(c + "/xgrad-manifest.txt") == "my notes\n");
    CHECK(names_in(c) == std::vector<std::string>{"xgrad-manifest.txt"});
}

TEST_CASE("any parameter name whose file name fits (NAME.npy up to 255 bytes) saves and loads") {
    TempDir dir;
    const std::string longest(251, 'w');
    P p(Matrix<double>{{1.5, -2}}, longest);
    xg::save_parameters(dir / "c", {p});
    p.value()(0, 0) = 3;
    xg::save_parameters(dir / "c", {p});  // and over a checkpoint of the same name
    P q(Matrix<double>{{0, 0}}, longest);
    xg::load_parameters(dir / "c", {q});
    CHECK(q.value() == Matrix<double>{{3, -2}});
    CHECK(names_in(dir / "c/xgrad-gen-2") == std::vector<std::string>{longest + ".npy"});
    // Single files too: the temporary name is shortened to fit.
    xg::save_npy(dir / (std::string(251, 'm') + ".npy"), p.value());
    CHECK(xg::load_npy<double>(dir / (std::string(251, 'm') + ".npy")) == p.value());

    const P too_long(Matrix<double>{{1}}, std::string(252, 'w'));
    CHECK(thrown<xg::ValueError>([&] { xg::save_parameters(dir / "d", {too_long}); }) ==
          "save_parameters: parameter 0 has the name '" + std::string(40, 'w') +
              "...': it is 252 bytes long, and NAME.npy must fit in a file name (255 bytes): at most 251");
    CHECK(!fs::exists(dir / "d"));
}

TEST_CASE("save_parameters: names must make file names; a failed write keeps the previous checkpoint") {
    TempDir dir;
    const Matrix<double> one{{1.0}};
    const auto names_error = [&](std::vector<P> ps) {
        return thrown<xg::ValueError>([&] { xg::save_parameters(dir / "c", ps); });
    };
    CHECK(names_error({P(one, "")}) == "save_parameters: parameter 0 has the name '': it is empty");
    CHECK(names_error({P(one, "W"), P(one, "a/b")}) ==
          "save_parameters: parameter 1 has the name 'a/b': a checkpoint file name takes only letters, digits, '_', "
          "'-' and '.'");
    CHECK(has(names_error({P(one, "..")}), "has the name '..': it starts with '.'"));
    CHECK(names_error({P(one, "W"), P(one, "W")}) == "save_parameters: two parameters are named 'W'");
    CHECK(names_error({P()}) == "save_parameters: parameter 0 is an empty handle");
    CHECK(!fs::exists(dir / "c"));
    // load_parameters checks the names the same way.
    CHECK(thrown<xg::ValueError>([&] { xg::load_parameters(dir / "c", {P(one, "a b")}); }) ==
          "load_parameters: parameter 0 has the name 'a b': a checkpoint file name takes only letters, digits, '_', "
          "'-' and '.'");

    // A checkpoint, then a save whose second file cannot be written (file
    // size limit): the folder is as it was, and the old checkpoint loads.
    xg::save_parameters(dir / "c", make_set(1.0));
    const auto before = tree(dir / "c");
    std::mt19937_64 rng(18);
    Set next = make_set(2.0);
    next[1].value() = randn(60, 60, rng);
    struct rlimit saved;
    REQUIRE(::getrlimit(RLIMIT_FSIZE, &saved) == 0);
    struct rlimit small = saved;
    small.rlim_cur = 4096;
    auto* old_handler = ::signal(SIGXFSZ, SIG_IGN);
    REQUIRE(::setrlimit(RLIMIT_FSIZE, &small) == 0);
    const std::string msg = thrown<xg::IoError>([&] { xg::save_parameters(dir / "c", next); });
    ::setrlimit(RLIMIT_FSIZE, &saved);
    ::signal(SIGXFSZ, old_handler);
    CHECK(msg == dir / "c/xgrad-gen-2/b1.npy" + ": cannot write: File too large");
    CHECK(tree(dir / "c") == before);
    Set got = blank_set();
    xg::load_parameters(dir / "c", got);
    CHECK(values(got) == values(make_set(1.0)));
}

TEST_CASE("leftovers of an interrupted save are ignored by load and removed by the next save, and nothing else") {
    TempDir dir;
    const std::string c = dir / "c";
    xg::save_parameters(c, make_set(1.0));
    // What a crash can leave: a generation not (or no longer) in the
    // manifest, a temporary manifest. And files of the user's own.
    fs::create_directories(c + "/xgrad-gen-5");
    write_bytes(c + "/xgrad-gen-5/W1.npy", "half a fi");
    write_bytes(c + "/.xgrad-manifest.txt.4242.0.tmp", "xgrad checkpoint 1\nfold");
    write_bytes(c + "/notes.txt", "mine");
    write_bytes(c + "/W1.npy", "not a checkpoint file: the folder has a manifest");
    fs::create_directories(c + "/xgrad-gen-mine");
    write_bytes(c + "/xgrad-gen-mine/a.npy", "mine too");
    write_bytes(c + "/xgrad-gen-7", "a file, not a generation folder");
    fs::create_directories(c + "/xgrad-gen-3");
    write_bytes(c + "/xgrad-gen-3/readme.txt", "a file xgrad did not write, in a generation folder");

    Set got = blank_set();
    xg::load_parameters(c, got);
    CHECK(values(got) == values(make_set(1.0)));

    xg::save_parameters(c, make_set(2.0));
    xg::load_parameters(c, got);
    CHECK(values(got) == values(make_set(2.0)));
    CHECK(names_in(c) == std::vector<std::string>{"W1.npy", "notes.txt", "xgrad-gen-3", "xgrad-gen-7", "xgrad-gen-8",
                                                  "xgrad-gen-mine", "xgrad-manifest.txt"});
    CHECK(names_in(c + "/xgrad-gen-3") == std::vector<std::string>{"readme.txt"});
    CHECK(read_bytes(c + "/xgrad-gen-mine/a.npy") == "mine too");
    CHECK(read_bytes(c + "/W1.npy") == "not a checkpoint file: the folder has a manifest");
}

TEST_CASE("a folder of the old layout (DIR/NAME.npy, no manifest) loads; a save converts it, removing only its files") {
    TempDir dir;
    const std::string c = dir / "flat";
    write_old(c, make_set(1.0), true);
    xg::save_npy(c + "/X.npy", Matrix<double>{{1, 2}});  // not a parameter: stays
    write_bytes(c + "/notes.txt", "mine");

    Set got = blank_set();
    xg::load_parameters(c, got);
    CHECK(values(got) == values(make_set(1.0)));
    const xg::CheckpointInfo info = xg::checkpoint_info(c);
    CHECK(info.manifest.empty());
    REQUIRE(info.files.size() == 4);  // every .npy file: W1, W2, X, b1
    CHECK(info.files[2].name == "X");
    CHECK(info.files[0].path == c + "/W1.npy");
    CHECK(info.files[0].shape == xg::Shape{4, 2});
    CHECK(info.files[0].sha256.empty());

    // Nothing tells which files belong together: a file of another set loads with the rest.
    xg::save_npy(c + "/b1.npy", make_set(5.0)[1].value());
    xg::load_parameters(c, got);
    CHECK(got[1].value() == make_set(5.0)[1].value());
    CHECK(got[0].value() == make_set(1.0)[0].value());

    // A missing file names the manifest that is not there either.
    fs::remove(c + "/W2.npy");
    CHECK(thrown<xg::IoError>([&] { xg::load_parameters(c, got); }) ==
          c + "/W2.npy: cannot open: No such file or directory (and there is no checkpoint manifest " + c +
              "/xgrad-manifest.txt)");

    xg::save_parameters(c, make_set(2.0));
    CHECK(names_in(c) == std::vector<std::string>{"X.npy", "notes.txt", "xgrad-gen-1", "xgrad-manifest.txt"});
    xg::load_parameters(c, got);
    CHECK(values(got) == values(make_set(2.0)));

    CHECK(thrown<xg::IoError>([&] { xg::checkpoint_info(dir / "none"); }) == dir / "none" + ": no such folder");
    fs::create_directories(dir / "empty");
    CHECK(thrown<xg::IoError>([&] { xg::checkpoint_info(dir / "empty"); }) ==
          dir / "empty" + ": holds no checkpoint: no manifest xgrad-manifest.txt, and no NAME.npy files of the old layout");
}
