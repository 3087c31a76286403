// Parameter checkpoints. save_parameters writes a complete new generation of
// .npy files beside the current one, then switches the folder's manifest to
// it with one rename; load_parameters reads the manifest once and checks
// every file against it before it assigns anything. The manifest's format is
// in lib/manifest.cpp.
#include "io_internal.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <filesystem>
#include <optional>
#include <set>

#include "messages.hpp"
#include "instantiate.hpp"

namespace xg {

namespace fs = std::filesystem;
using detail::io_fail;

namespace detail {

void (*checkpoint_step_hook)(int, const char*) = nullptr;

std::string parameter_name_problem(const std::string& name) {
    if (name.empty()) return "it is empty";
    if (name[0] == '.') return "it starts with '.' (a hidden file)";
    for (char c : name) {
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-' && c != '.') {
            return "a checkpoint file name takes only letters, digits, '_', '-' and '.'";
        }
    }
    if (name.size() > 251) {
        return "it is " + std::to_string(name.size()) +
               " bytes long, and NAME.npy must fit in a file name (255 bytes): at most 251";
    }
    return "";
}

}  // namespace detail

namespace {

std::string join(const std::string& dir, const std::string& name) {
    return (fs::path(dir) / name).string();
}

/// A name as a message shows it: quoted, at most 40 characters.
std::string quoted(const std::string& n) {
    return "'" + (n.size() > 40 ? n.substr(0, 40) + "..." : n) + "'";
}

template <class T>
void check_names(const std::vector<Parameter<T>>& params, const char* what) {
    std::set<std::string> seen;
    for (std::size_t i = 0; i < params.size(); ++i) {
        const std::string which = std::string(what) + ": parameter " + std::to_string(i);
        if (!params[i]) throw ValueError(which + " is an empty handle");
        const std::string& n = params[i].name();
        const std::string problem = detail::parameter_name_problem(n);
        if (!problem.empty()) throw ValueError(which + " has the name " + quoted(n) + ": " + problem);
        if (!seen.insert(n).second) throw ValueError(std::string(what) + ": two parameters are named '" + n + "'");
    }
}

/// The numbered steps of a save, for the test hook.
class Steps {
public:
    void operator()(const char* done) {
        if (detail::checkpoint_step_hook) detail::checkpoint_step_hook(next_++, done);
    }
    /// After the switch, where an exception from the hook is ignored.
    void quietly(const char* done) noexcept {
        try {
            (*this)(done);
        } catch (...) {
        }
    }

private:
    int next_ = 0;
};

/// Remove a generation folder: the .npy files in it, then the folder itself
/// when nothing else is left in it. Anything that cannot be removed stays
/// (the next save tries again).
void remove_generation(const std::string& folder, Steps* steps) {
    std::vector<std::string> files;
    std::error_code ec;
    for (fs::directory_iterator it(folder, ec), end; !ec && it != end; it.increment(ec)) {
        std::error_code e2;
        if (it->path().extension() == ".npy" && it->is_regular_file(e2)) files.push_back(it->path().string());
    }
    for (const std::string& f : files) {
        ::unlink(f.c_str());
        if (steps) steps->quietly("removed a file of an old generation");
    }
    ::rmdir(folder.c_str());
}

/// What a checkpoint folder holds before a save: the generations (the
/// current one, and any an interrupted save left), the highest generation
/// number, temporary manifests, and the files of the old layout to remove
/// once the new checkpoint is in place.
struct Survey {
    std::vector<std::string> generations, temporaries, old_files;
    std::uint64_t top = 0;
};

/// Survey `dir` for a save of `params`. Throws IoError, before anything is
/// written, for a manifest in place that cannot be replaced or is not xgrad's.
template <class T>
Survey survey(const std::string& dir, const std::vector<Parameter<T>>& params) {
    Survey out;
    const std::string manifest = join(dir, detail::manifest_name);
    const auto is_file = [](const std::string& path) {
        struct stat st;
        return ::lstat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
    };
    // Files of the old layout: in a folder without a manifest, DIR/NAME.npy
    // of each name saved; else those the manifest says are still to be removed.
    struct stat st;
    if (::stat(manifest.c_str(), &st) == 0) {
        if (S_ISDIR(st.st_mode)) io_fail(manifest, "cannot replace: is a directory, not a file");
        const std::string text = detail::InFile(manifest).read_all();
        if (!detail::looks_like_manifest(text)) {
            io_fail(manifest, "is not an xgrad checkpoint manifest, and save_parameters does not replace a file "
                              "it did not write");
        }
        try {
            for (const std::string& f : detail::parse_manifest(manifest, text).old_layout_files) {
                if (is_file(join(dir, f))) out.old_files.push_back(f);
            }
        } catch (const IoError&) {
            // A damaged manifest is replaced all the same; its list is lost.
        }
    } else {
        for (const Parameter<T>& p : params) {
            if (is_file(join(dir, p.name() + ".npy"))) out.old_files.push_back(p.name() + ".npy");
        }
    }
    const std::string tmp_prefix = "." + std::string(detail::manifest_name) + ".";
    std::error_code ec;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
        const std::string name = it->path().filename().string();
        std::uint64_t n = 0;
        if (detail::generation_number(name, n)) {
            out.top = std::max(out.top, n);
            out.generations.push_back(name);
        } else if (name.compare(0, tmp_prefix.size(), tmp_prefix) == 0 && it->path().extension() == ".tmp") {
            out.temporaries.push_back(name);
        }
    }
    if (ec) io_fail(dir, "cannot list the folder: " + ec.message());
    return out;
}

/// The manifest of the checkpoint in `dir`; nothing when there is none.
std::optional<detail::Manifest> read_manifest(const std::string& dir) {
    const std::string path = join(dir, detail::manifest_name);
    struct stat st;
    if (::stat(path.c_str(), &st) != 0 && errno == ENOENT) return std::nullopt;
    return detail::parse_manifest(path, detail::InFile(path).read_all());
}

const CheckpointFile* find_file(const std::vector<CheckpointFile>& files, const std::string& name) {
    for (const CheckpointFile& f : files) {
        if (f.name == name) return &f;
    }
    return nullptr;
}

/// "W1, b1, W2, b2" (the first 8).
std::string names_of(const std::vector<CheckpointFile>& files) {
    std::string s;
    for (std::size_t i = 0; i < files.size() && i < 8; ++i) s += (i ? ", " : "") + files[i].name;
    return files.size() > 8 ? s + ", ..." : files.empty() ? std::string("nothing") : s;
}

/// The matrix in one file of a checkpoint, checked against the manifest's
/// entry `f`: present, of its size, SHA-256, dtype and shape.
template <class T>
Matrix<T> load_listed(const std::string& dir, const CheckpointFile& f) {
    const std::string path = join(dir, f.path);
    const auto mismatch = [&](const std::string& what) {
        throw IoError(path + " does not match the checkpoint's manifest: " + what);
    };
    struct stat st;
    if (::stat(path.c_str(), &st) != 0 && errno == ENOENT) mismatch("the manifest lists it, but it is missing");
    const detail::InFile in(path);
    if (in.size() != f.bytes) {
        mismatch("it has " + std::to_string(in.size()) + " bytes, the manifest says " + std::to_string(f.bytes) +
                 (in.size() < f.bytes ? " (the file is truncated)" : ""));
    }
    const std::string bytes = in.read_all();
    const std::string sum = detail::sha256_hex(bytes);
    if (sum != f.sha256) {
        mismatch("its SHA-256 is " + sum.substr(0, 16) + "..., the manifest says " + f.sha256.substr(0, 16) +
                 "... (the file was changed, or replaced by another, after the checkpoint was saved)");
    }
    NpyInfo info;
    Matrix<T> m = detail::npy_from_bytes<T>(path, bytes, &info);
    if (info.descr != f.descr || info.shape != f.shape) {
        mismatch("it holds a " + to_string(info.shape) + " " + info.descr + " array, the manifest says " +
                 to_string(f.shape) + " " + f.descr);
    }
    return m;
}

/// The matrix in DIR/NAME.npy, a checkpoint of the old layout.
template <class T>
Matrix<T> load_old_layout(const std::string& dir, const std::string& file) {
    struct stat st;
    if (::stat(file.c_str(), &st) != 0 && errno == ENOENT) {
        io_fail(file, "cannot open: " + detail::errno_text(ENOENT) + " (and there is no checkpoint manifest " +
                          join(dir, detail::manifest_name) + ")");
    }
    return load_npy<T>(file);
}

}  // namespace

const CheckpointFile* CheckpointInfo::find(const std::string& name) const {
    return find_file(files, name);
}

// The manifest's list, or the .npy files of a folder of the old layout.
CheckpointInfo checkpoint_info(const std::string& dir) {
    CheckpointInfo info;
    if (const std::optional<detail::Manifest> m = read_manifest(dir)) {
        info.manifest = join(dir, detail::manifest_name);
        for (CheckpointFile f : m->files) {
            f.path = join(dir, f.path);
            info.files.push_back(std::move(f));
        }
        return info;
    }
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) io_fail(dir, fs::exists(dir, ec) ? "is not a folder" : "no such folder");
    std::vector<std::string> names;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
        const std::string name = it->path().stem().string();
        std::error_code e2;
        if (it->path().extension() == ".npy" && detail::parameter_name_problem(name).empty() &&
            it->is_regular_file(e2)) {
            names.push_back(name);
        }
    }
    if (names.empty()) {
        io_fail(dir, std::string("holds no checkpoint: no manifest ") + detail::manifest_name +
                         ", and no NAME.npy files of the old layout");
    }
    std::sort(names.begin(), names.end());
    for (const std::string& name : names) {
        const std::string path = join(dir, name + ".npy");
        const NpyInfo n = npy_info(path);
        info.files.push_back(CheckpointFile{name, path, n.descr, n.shape, detail::InFile(path).size(), ""});
    }
    return info;
}

// The new generation in full beside the current one, then one rename of the
// manifest (the switch), then the old generation removed.
template <class T>
void save_parameters(const std::string& dir, const std::vector<Parameter<T>>& params) {
    check_names(params, "save_parameters");
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) io_fail(dir, "cannot create the folder: " + ec.message());

    const Survey now = survey<T>(dir, params);
    const std::string manifest = join(dir, detail::manifest_name);
    std::uint64_t top = now.top;

    // The new generation, written in full while the current one stays as it is.
    std::string folder, gen;
    for (;;) {
        folder = "xgrad-gen-" + std::to_string(++top);
        gen = join(dir, folder);
        if (::mkdir(gen.c_str(), 0777) == 0) break;
        if (errno != EEXIST) io_fail(gen, "cannot create the folder: " + detail::errno_text(errno));
    }
    Steps step;
    detail::Manifest next{folder, {}, now.old_files};
    try {
        step("created the new generation's folder");
        for (const Parameter<T>& p : params) {
            const std::string bytes = detail::npy_bytes(p.value());
            CheckpointFile f{p.name(), folder + "/" + p.name() + ".npy", sizeof(T) == 8 ? "<f8" : "<f4",
                             shape_of(p.value()), bytes.size(), detail::sha256_hex(bytes)};
            detail::write_new_file(
                join(dir, f.path), bytes, [](void* s) { (*static_cast<Steps*>(s))("wrote a file, not yet flushed"); },
                &step);
            step("flushed the file to disk");
            next.files.push_back(std::move(f));
        }
        if (!detail::sync_folder(gen)) io_fail(gen, "cannot flush the folder to disk: " + detail::errno_text(errno));
        step("flushed the new generation's folder");
        const std::string tmp = detail::write_temp(manifest, detail::manifest_text(next));
        try {
            step("wrote the new manifest to a temporary file");
        } catch (...) {
            ::unlink(tmp.c_str());
            throw;
        }
        detail::replace_file(tmp, manifest);  // the switch: one rename
    } catch (...) {
        remove_generation(gen, nullptr);
        throw;
    }

    // The new checkpoint is in place. What follows tidies up; a failure there
    // leaves files that the next save removes, and is not an error.
    step.quietly("renamed the new manifest over the old one: the switch");
    detail::sync_folder(dir);
    step.quietly("flushed the checkpoint folder");
    for (const std::string& g : now.generations) remove_generation(join(dir, g), &step);
    for (const std::string& t : now.temporaries) {
        ::unlink(join(dir, t).c_str());
        step.quietly("removed a temporary manifest");
    }
    for (const std::string& f : now.old_files) {
        ::unlink(join(dir, f).c_str());
        step.quietly("removed a file of the old layout");
    }
    detail::sync_folder(dir);
}

// The manifest read once; every file checked against it and its parameter;
// then, and only then, every parameter assigned.
template <class T>
void load_parameters(const std::string& dir, const std::vector<Parameter<T>>& params) {
    check_names(params, "load_parameters");
    const std::optional<detail::Manifest> manifest = read_manifest(dir);
    std::vector<Matrix<T>> loaded;
    loaded.reserve(params.size());
    for (const Parameter<T>& p : params) {
        const std::string& name = p.name();
        std::string file;
        Matrix<T> m;
        if (manifest) {
            const CheckpointFile* f = find_file(manifest->files, name);
            if (!f) {
                io_fail(join(dir, detail::manifest_name), "the checkpoint has no parameter named '" + name +
                                                              "' (it holds " + names_of(manifest->files) + ")");
            }
            file = join(dir, f->path);
            m = load_listed<T>(dir, *f);
        } else {
            file = join(dir, name + ".npy");
            m = load_old_layout<T>(dir, file);
        }
        if (shape_of(m) != p.shape()) {
            throw ShapeError(file + ": holds a " + to_string(shape_of(m)) + " matrix, but parameter " + name + " is " +
                             to_string(p.shape()));
        }
        const std::string bad = detail::non_finite_text(name, m.data(), m.size(), m.shape()[1]);
        if (!bad.empty()) throw ValueError(file + ": " + bad);
        loaded.push_back(std::move(m));
    }
    // Every file checked: now assign, in place (graphs keep referring to the same buffers).
    for (std::size_t i = 0; i < params.size(); ++i) {
        Parameter<T> p = params[i];
        std::copy(loaded[i].begin(), loaded[i].end(), p.value().begin());
    }
}

#define XG_CHECKPOINT_INSTANTIATIONS(T)                                                  \
    template void save_parameters(const std::string&, const std::vector<Parameter<T>>&); \
    template void load_parameters(const std::string&, const std::vector<Parameter<T>>&);
XG_INSTANTIATE_FLOAT_DOUBLE(XG_CHECKPOINT_INSTANTIATIONS)
#undef XG_CHECKPOINT_INSTANTIATIONS

}  // namespace xg
