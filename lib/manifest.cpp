// A checkpoint's manifest, DIR/xgrad-manifest.txt: the one file whose
// atomic replacement switches a folder from one checkpoint to the next. Text,
// one line per parameter:
//
//   xgrad checkpoint 1
//   folder xgrad-gen-3
//   parameter W1 file xgrad-gen-3/W1.npy dtype <f8 shape 4x2 bytes 192 sha256 9f86d081…
//   parameter b1 file xgrad-gen-3/b1.npy dtype <f8 shape 4x1 bytes 160 sha256 3a7bd3e2…
//   end 2
//
// and, after a save into a folder of the old layout (DIR/NAME.npy), one line
// `old-layout-file NAME.npy` before `end` per file of it that the save could
// not remove yet (an interrupted or refused removal): the next save removes it.
// The reader accepts exactly what the writer writes, so a truncated, edited
// or foreign manifest is refused with the line at fault.
#include "io_internal.hpp"

#include <algorithm>
#include <set>
#include <sstream>

namespace xg {
namespace detail {

namespace {

constexpr const char* magic = "xgrad checkpoint ";
constexpr const char* version = "1";
constexpr const char* generation_prefix = "xgrad-gen-";

/// A decimal number without sign or leading zeros (but "0"), that fits 64 bits.
bool parse_u64(const std::string& s, std::uint64_t& out) {
    if (s.empty() || s.size() > 20 || (s.size() > 1 && s[0] == '0')) return false;
    std::uint64_t v = 0;
    for (char c : s) {
        if (c < '0' || c > '9') return false;
        const std::uint64_t d = std::uint64_t(c - '0');
        if (v > (UINT64_MAX - d) / 10) return false;
        v = v * 10 + d;
    }
    out = v;
    return true;
}

std::vector<std::string> words(const std::string& line) {
    std::vector<std::string> out;
    for (std::size_t start = 0;;) {
        const std::size_t sp = line.find(' ', start);
        out.push_back(line.substr(start, sp == std::string::npos ? std::string::npos : sp - start));
        if (sp == std::string::npos) return out;
        start = sp + 1;
    }
}

bool is_sha256_hex(const std::string& s) {
    if (s.size() != 64) return false;
    for (char c : s) {
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
    }
    return true;
}

/// The line as a message shows it: at most 60 characters.
std::string shown(const std::string& line) {
    return "'" + (line.size() > 60 ? line.substr(0, 60) + "..." : line) + "'";
}

}  // namespace

bool generation_number(const std::string& name, std::uint64_t& number) {
    const std::string prefix = generation_prefix;
    return name.compare(0, prefix.size(), prefix) == 0 && parse_u64(name.substr(prefix.size()), number);
}

bool looks_like_manifest(const std::string& text) {
    return text.compare(0, std::string(magic).size(), magic) == 0;
}

std::string manifest_text(const Manifest& m) {
    std::ostringstream s;
    s << magic << version << "\nfolder " << m.folder << "\n";
    for (const CheckpointFile& f : m.files) {
        s << "parameter " << f.name << " file " << f.path << " dtype " << f.descr << " shape " << f.shape.rows << "x"
          << f.shape.cols << " bytes " << f.bytes << " sha256 " << f.sha256 << "\n";
    }
    for (const std::string& f : m.old_layout_files) s << "old-layout-file " << f << "\n";
    s << "end " << m.files.size() << "\n";
    return s.str();
}

Manifest parse_manifest(const std::string& path, const std::string& text) {
    std::size_t line_no = 0;
    const auto fail = [&](const std::string& what) {
        io_fail(path, "corrupt checkpoint manifest: line " + std::to_string(line_no) + ": " + what);
    };
    if (!looks_like_manifest(text)) {
        io_fail(path, "not an xgrad checkpoint manifest (its first line is not '" + std::string(magic) + version +
                          "')");
    }
    std::vector<std::string> lines;
    std::size_t pos = 0;
    for (std::size_t eol; (eol = text.find('\n', pos)) != std::string::npos; pos = eol + 1) {
        lines.push_back(text.substr(pos, eol - pos));
    }
    const bool cut_line = pos < text.size();  // text after the last newline: a line cut short
    Manifest m;
    std::set<std::string> names;
    bool ended = false;
    for (const std::string& line : lines) {
        ++line_no;
        if (ended) fail("text after the 'end' line");
        const std::vector<std::string> w = words(line);
        if (line_no == 1) {
            if (line != std::string(magic) + version) {
                io_fail(path, "checkpoint manifest of format '" + line.substr(std::string(magic).size()) +
                                  "'; this version of xgrad reads format " + version);
            }
        } else if (line_no == 2) {
            std::uint64_t n = 0;
            if (w.size() != 2 || w[0] != "folder" || !generation_number(w[1], n)) {
                fail(shown(line) + " is not 'folder xgrad-gen-N'");
            }
            m.folder = w[1];
        } else if (w[0] == "end") {
            std::uint64_t count = 0;
            if (w.size() != 2 || !parse_u64(w[1], count)) fail(shown(line) + " is not 'end COUNT'");
            if (count != m.files.size()) {
                fail("the manifest ends saying it lists " + w[1] + " parameters, but it lists " +
                     std::to_string(m.files.size()) + " (lines are missing or were added)");
            }
            ended = true;
        } else if (w[0] == "old-layout-file") {
            const std::string stem = w.size() == 2 && w[1].size() > 4 ? w[1].substr(0, w[1].size() - 4) : "";
            if (w[1].compare(w[1].size() - std::min<std::size_t>(4, w[1].size()), 4, ".npy") != 0 ||
                !parameter_name_problem(stem).empty()) {
                fail(shown(line) + " is not 'old-layout-file NAME.npy'");
            }
            m.old_layout_files.push_back(w[1]);
        } else {
            const char* keys[] = {"parameter", "file", "dtype", "shape", "bytes", "sha256"};
            bool form = w.size() == 12;
            for (std::size_t k = 0; form && k < 6; ++k) form = w[2 * k] == keys[k];
            if (!form) {
                fail(shown(line) + " is not 'parameter NAME file FOLDER/NAME.npy dtype D shape RxC bytes N sha256 H'");
            }
            CheckpointFile f;
            f.name = w[1];
            f.path = w[3];
            f.descr = w[5];
            if (!parameter_name_problem(f.name).empty()) fail("'" + f.name + "' is not a parameter name");
            if (!names.insert(f.name).second) fail("parameter '" + f.name + "' is listed twice");
            if (f.path != m.folder + "/" + f.name + ".npy") {
                fail("the file of '" + f.name + "' is '" + f.path + "', not " + m.folder + "/" + f.name + ".npy");
            }
            if (f.descr != "<f8" && f.descr != "<f4") fail("dtype '" + f.descr + "' is neither <f8 nor <f4");
            const std::size_t x = w[7].find('x');
            std::uint64_t rows = 0, cols = 0;
            if (x == std::string::npos || !parse_u64(w[7].substr(0, x), rows) ||
                !parse_u64(w[7].substr(x + 1), cols)) {
                fail("shape '" + w[7] + "' is not ROWSxCOLS");
            }
            f.shape = Shape{std::size_t(rows), std::size_t(cols)};
            if (!parse_u64(w[9], f.bytes)) fail("bytes '" + w[9] + "' is not a number");
            f.sha256 = w[11];
            if (!is_sha256_hex(f.sha256)) fail("sha256 '" + f.sha256 + "' is not 64 hex digits");
            m.files.push_back(std::move(f));
        }
    }
    if (cut_line && ended) {
        line_no = lines.size() + 1;
        fail("text after the 'end' line");
    }
    if (line_no < 2) {
        line_no = lines.size() + 1;
        fail("the manifest is truncated (it lacks its 'folder' line)");
    }
    if (!ended || cut_line) {
        line_no = lines.size() + (cut_line ? 1 : 0);
        fail("the manifest is truncated: it stops before its 'end' line");
    }
    return m;
}

}  // namespace detail
}  // namespace xg
