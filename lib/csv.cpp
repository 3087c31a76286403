// Text files of numbers: CSV (any one-character delimiter) and whitespace-
// separated text as numpy's savetxt writes it; every cell is checked, and a
// refusal says the line, the column and what to do. Also load_matrix and
// save_matrix, which choose .npy or text by the file's extension.
#include "io_internal.hpp"
#include "instantiate.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <limits>

namespace xg {

using detail::io_fail;

namespace {

/// How the cells of a line are separated: by one character, or (blanks) by
/// any run of spaces and tabs, with blanks at either end of the line ignored.
/// With `detect` (.txt files), ',' when the first line of data holds a
/// comma, else blanks (numpy's savetxt and loadtxt default).
struct Separator {
    char c = ',';
    bool blanks = false;
    bool detect = false;
};

Separator separator_for(char delimiter) {
    return Separator{delimiter, delimiter == ' '};
}

bool is_blank(char c) {
    return c == ' ' || c == '\t' || c == '\r';
}

/// The cell without surrounding blanks (and a carriage return), and without
/// one pair of double quotes around it.
std::string trim(const std::string& s) {
    std::size_t a = 0, b = s.size();
    while (a < b && is_blank(s[a])) ++a;
    while (b > a && is_blank(s[b - 1])) --b;
    std::string t = s.substr(a, b - a);
    if (t.size() >= 2 && t.front() == '"' && t.back() == '"') t = t.substr(1, t.size() - 2);
    return t;
}

std::vector<std::string> split(const std::string& line, Separator sep) {
    std::vector<std::string> cells;
    if (sep.blanks) {
        std::size_t i = 0;
        for (;;) {
            while (i < line.size() && is_blank(line[i])) ++i;
            if (i == line.size()) break;
            const std::size_t start = i;
            while (i < line.size() && !is_blank(line[i])) ++i;
            cells.push_back(trim(line.substr(start, i - start)));
        }
        return cells;
    }
    for (std::size_t start = 0;;) {
        const std::size_t d = line.find(sep.c, start);
        cells.push_back(trim(line.substr(start, d == std::string::npos ? std::string::npos : d - start)));
        if (d == std::string::npos) return cells;
        start = d + 1;
    }
}

enum class Parsed { number, not_a_number, out_of_range };

template <class T>
Parsed parse_number(const std::string& cell, T& out) {
    if (cell.empty()) return Parsed::not_a_number;
    char* end = nullptr;
    errno = 0;
    if constexpr (std::is_same<T, float>::value) {
        out = std::strtof(cell.c_str(), &end);
    } else {
        out = T(std::strtod(cell.c_str(), &end));
    }
    if (end != cell.c_str() + cell.size()) return Parsed::not_a_number;
    // Overflow is an error; underflow to a subnormal or zero is a value.
    return errno == ERANGE && std::isinf(out) ? Parsed::out_of_range : Parsed::number;
}

/// When `line` holds no `asked` separator but splits into two or more
/// numbers at another one: ", the line seems to use ';' between values…".
template <class T>
std::string delimiter_hint(const std::string& line, Separator asked) {
    const Separator others[] = {{',', false}, {';', false}, {'\t', false}, {' ', true}};
    for (const Separator& s : others) {
        if (s.c == asked.c) continue;
        const std::vector<std::string> cells = split(line, s);
        T v;
        const bool numbers = cells.size() >= 2 && std::all_of(cells.begin(), cells.end(), [&](const std::string& c) {
                                 return parse_number(c, v) == Parsed::number;
                             });
        if (!numbers) continue;
        const std::string shown = s.blanks ? "spaces" : s.c == '\t' ? "tabs" : "'" + std::string(1, s.c) + "'";
        const std::string code = s.blanks ? "' '" : s.c == '\t' ? "'\\t'" : "'" + std::string(1, s.c) + "'";
        const std::string had = asked.blanks ? "blanks" : asked.c == '\t' ? "tab" : "'" + std::string(1, asked.c) + "'";
        return "; the line has no " + had + " but seems to use " + shown +
               " between values: pass that delimiter, load_csv(path, " + code + ")";
    }
    return "";
}

template <class T>
Matrix<T> load_text(const std::string& path, Separator sep, std::size_t skip_rows) {
    std::string text = detail::InFile(path).read_all();
    if (text.compare(0, 2, "\xff\xfe") == 0 || text.compare(0, 2, "\xfe\xff") == 0) {
        io_fail(path, "is UTF-16 text (it starts with a UTF-16 byte-order mark); save it as UTF-8 or ASCII");
    }
    // A UTF-8 byte-order mark (as Excel and Notepad write) is not part of the first cell.
    if (text.compare(0, 3, "\xef\xbb\xbf") == 0) text.erase(0, 3);
    std::vector<T> values;
    std::size_t cols = 0, rows = 0, first_line = 0, line_no = 0;
    for (std::size_t pos = 0; pos < text.size();) {
        std::size_t eol = text.find('\n', pos);
        if (eol == std::string::npos) eol = text.size();
        const std::string line = text.substr(pos, eol - pos);
        pos = eol + 1;
        ++line_no;
        if (line_no <= skip_rows) continue;
        const std::string t = trim(line);
        if (t.empty() || t[0] == '#') continue;
        if (sep.detect) sep = t.find(',') != std::string::npos ? Separator{',', false} : Separator{' ', true};
        const std::vector<std::string> cells = split(line, sep);
        for (std::size_t n = 0; n < cells.size(); ++n) {
            const std::string& cell = cells[n];
            const std::string where = "line " + std::to_string(line_no) + ", column " + std::to_string(n + 1) + ": ";
            T v;
            const Parsed p = parse_number(cell, v);
            if (p == Parsed::out_of_range) {
                io_fail(path, where + cell + " is out of the range of " +
                                  (std::is_same<T, float>::value ? "float" : "double") + " (largest magnitude " +
                                  detail::number_text(std::numeric_limits<T>::max()) + ")");
            }
            if (p == Parsed::not_a_number) {
                if (cell.empty()) io_fail(path, where + "empty cell");
                const std::string shown = cell.size() > 40 ? cell.substr(0, 40) + "..." : cell;
                std::string hint = cells.size() == 1 ? delimiter_hint<T>(line, sep) : "";
                if (hint.empty() && rows == 0) hint = " (a header line? skip it with skip_rows = 1)";
                io_fail(path, where + "'" + shown + "' is not a number" + hint);
            }
            values.push_back(v);
        }
        if (rows == 0) {
            cols = cells.size();
            first_line = line_no;
        } else if (cells.size() != cols) {
            io_fail(path, "line " + std::to_string(line_no) + " has " + std::to_string(cells.size()) + " values, line " +
                              std::to_string(first_line) + " has " + std::to_string(cols) +
                              " (rows of different lengths)");
        }
        ++rows;
    }
    if (rows == 0) io_fail(path, "no data (the file is empty or holds only blank and '#' lines)");
    Matrix<T> m({rows, cols});
    std::copy(values.begin(), values.end(), m.begin());
    return m;
}

template <class T>
std::string csv_text(const Matrix<T>& m, char delimiter) {
    std::string out;
    char buf[40];
    const char* fmt = sizeof(T) == 8 ? "%.17g" : "%.9g";
    for (std::size_t r = 0; r < m.shape()[0]; ++r) {
        for (std::size_t c = 0; c < m.shape()[1]; ++c) {
            if (c) out += delimiter;
            std::snprintf(buf, sizeof buf, fmt, double(m(r, c)));
            out += buf;
        }
        out += '\n';
    }
    return out;
}

std::string ext_of(const std::string& path) {
    std::string e = std::filesystem::path(path).extension().string();
    std::transform(e.begin(), e.end(), e.begin(), [](unsigned char c) { return char(std::tolower(c)); });
    return e;
}

}  // namespace

template <class T>
Matrix<T> load_csv(const std::string& path, char delimiter, std::size_t skip_rows) {
    return load_text<T>(path, separator_for(delimiter), skip_rows);
}

template <class T>
void save_csv(const std::string& path, const Matrix<T>& m, char delimiter) {
    detail::write_atomic(path, csv_text(m, delimiter));
}

template <class T>
Matrix<T> load_matrix(const std::string& path) {
    const std::string e = ext_of(path);
    if (e == ".npy") return load_npy<T>(path);
    if (e == ".csv") return load_csv<T>(path);
    if (e == ".txt") return load_text<T>(path, Separator{' ', true, true}, 0);
    io_fail(path, "unknown file type '" + e + "': expected .npy, .csv or .txt");
}

template <class T>
void save_matrix(const std::string& path, const Matrix<T>& m) {
    const std::string e = ext_of(path);
    if (e == ".npy") return save_npy(path, m);
    if (e == ".csv") return save_csv(path, m);
    if (e == ".txt") return save_csv(path, m, ' ');
    io_fail(path, "unknown file type '" + e + "': expected .npy, .csv or .txt");
}

#define XG_CSV_INSTANTIATIONS(T)                                        \
    template Matrix<T> load_csv(const std::string&, char, std::size_t); \
    template void save_csv(const std::string&, const Matrix<T>&, char); \
    template Matrix<T> load_matrix(const std::string&);                 \
    template void save_matrix(const std::string&, const Matrix<T>&);
XG_INSTANTIATE_FLOAT_DOUBLE(XG_CSV_INSTANTIATIONS)
#undef XG_CSV_INSTANTIATIONS

}  // namespace xg
