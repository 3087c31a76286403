// Test helpers for files: a scratch folder removed at the end of a test,
// raw byte reads and writes, and the message of an expected exception.
#pragma once

#include <doctest/doctest.h>

#include <algorithm>
#include <cstdlib>
#include <stdlib.h>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace xgt {

/// A fresh folder under the system's temporary directory, removed with
/// everything in it when the object goes out of scope.
class TempDir {
public:
    TempDir() {
        std::string tmpl = (std::filesystem::temp_directory_path() / "xgrad-test-XXXXXX").string();
        REQUIRE(::mkdtemp(&tmpl[0]) != nullptr);
        path_ = tmpl;
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    /// The full path of `name` inside the folder.
    std::string operator/(const std::string& name) const { return (path_ / name).string(); }
    const std::filesystem::path& path() const { return path_; }

    /// Names of the entries in the folder (or in its subfolder `sub`).
    std::vector<std::string> entries(const std::string& sub = "") const {
        std::vector<std::string> out;
        for (const auto& e : std::filesystem::directory_iterator(sub.empty() ? path_ : path_ / sub)) {
            out.push_back(e.path().filename().string());
        }
        std::sort(out.begin(), out.end());
        return out;
    }

private:
    std::filesystem::path path_;
};

inline std::string read_bytes(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    REQUIRE(in);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

inline void write_bytes(const std::string& path, const std::string& bytes) {
    std::ofstream out(path, std::ios::binary);
    REQUIRE(out);
    out.write(bytes.data(), std::streamsize(bytes.size()));
}

/// Run f and return the message of the E it must throw ("" and a failed
/// check when it throws something else or nothing).
template <class E, class F>
std::string thrown(F&& f) {
    try {
        f();
    } catch (const E& e) {
        return e.what();
    } catch (const std::exception& e) {
        FAIL_CHECK("wrong exception type, message: " << std::string(e.what()));
        return "";
    }
    FAIL_CHECK("no exception thrown");
    return "";
}

inline bool has(const std::string& s, const std::string& part) {
    return s.find(part) != std::string::npos;
}

}  // namespace xgt
