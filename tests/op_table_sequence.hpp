// The op table's rows for the sequence ops (rows, columns, concat_rows,
// concat_columns, embedding) and their plain-loop references. Included by
// tests/op_table.hpp after its helpers (it uses the table's types); not a
// header of its own.
#pragma once

namespace xgt::op_table {

namespace ref {

/// X[b:e, :] (columns = false) or X[:, b:e].
inline Matrix<double> slice(const Matrix<double>& x, bool columns, std::size_t b, std::size_t e) {
    const std::size_t R = columns ? x.shape()[0] : e - b, C = columns ? e - b : x.shape()[1];
    Matrix<double> y({R, C});
    for (std::size_t i = 0; i < R; ++i)
        for (std::size_t j = 0; j < C; ++j) y(i, j) = columns ? x(i, b + j) : x(b + i, j);
    return y;
}

/// The r × c matrix holding g at rows (or columns) b … e − 1, zeros elsewhere.
inline Matrix<double> pad(const Matrix<double>& g, bool columns, std::size_t b, std::size_t r, std::size_t c) {
    Matrix<double> y = xt::zeros<double>({r, c});
    for (std::size_t i = 0; i < g.shape()[0]; ++i)
        for (std::size_t j = 0; j < g.shape()[1]; ++j) (columns ? y(i, b + j) : y(b + i, j)) = g(i, j);
    return y;
}

/// The parts stacked top to bottom (columns = false) or side by side.
inline Matrix<double> concat(const std::vector<Matrix<double>>& parts, bool columns) {
    std::size_t R = 0, C = 0;
    for (const Matrix<double>& p : parts) {
        R = columns ? p.shape()[0] : R + p.shape()[0];
        C = columns ? C + p.shape()[1] : p.shape()[1];
    }
    Matrix<double> y({R, C});
    std::size_t at = 0;
    for (const Matrix<double>& p : parts) {
        for (std::size_t i = 0; i < p.shape()[0]; ++i)
            for (std::size_t j = 0; j < p.shape()[1]; ++j) (columns ? y(i, at + j) : y(at + i, j)) = p(i, j);
        at += columns ? p.shape()[1] : p.shape()[0];
    }
    return y;
}

/// Column j of the result is column ids(0, j) of E.
inline Matrix<double> embedding(const Matrix<double>& E, const Matrix<double>& ids) {
    Matrix<double> y({E.shape()[0], ids.shape()[1]});
    for (std::size_t i = 0; i < E.shape()[0]; ++i)
        for (std::size_t j = 0; j < ids.shape()[1]; ++j) y(i, j) = E(i, std::size_t(ids(0, j)));
    return y;
}

}  // namespace ref

namespace detail {

/// The rows of the sequence ops and their error cases: empty, reversed and
/// too long ranges; parts whose other dimension differs; token ids that are
/// not a row, out of range, negative, fractional or NaN.
inline void add_sequence_rows(std::vector<Row>& t) {
    const double nan = std::numeric_limits<double>::quiet_NaN();
    const auto range = [](std::size_t b, std::size_t e) {
        Attr a;
        a.begin = b;
        a.end = e;
        return a;
    };
    // ---- slices
    struct Slice {
        bool columns;
        std::size_t b, e, extra;  // the input has `extra` more rows (columns) than Dims says
        const char* tag;
    };
    const Slice slices[] = {{false, 1, 3, 2, ""}, {false, 0, 1, 0, " (first)"}, {true, 1, 3, 2, ""}, {true, 0, 1, 0, " (first)"}};
    for (const Slice& s : slices) {
        const bool cols = s.columns;
        const std::string op = cols ? "columns" : "rows";
        const std::string b = std::to_string(s.b) + ":" + std::to_string(s.e);
        Row r;
        r.name = op + s.tag;
        r.op = op;
        r.forms = {cols ? form("columns(Var,size_t,size_t)", [](const auto& v, const Attr& a) { return columns(v[0], a.begin, a.end); })
                        : form("rows(Var,size_t,size_t)", [](const auto& v, const Attr& a) { return rows(v[0], a.begin, a.end); })};
        r.inputs = {"X"};
        r.differentiable = {true};
        r.domains = {any()};
        const std::size_t extra = s.extra;
        r.shapes = [cols, extra](const Dims& d) {
            return std::vector<Shape>{cols ? Shape{d.n, d.m + extra} : Shape{d.n + extra, d.m}};
        };
        r.reference = [cols](const Values& in, const Attr& a) { return ref::slice(in[0], cols, a.begin, a.end); };
        r.attr = range(s.b, s.e);
        r.exact = true;
        r.reads_every_entry = false;
        r.formula = cols ? "X[:, " + b + "]" : "X[" + b + ", :]";
        r.grads = {std::string(cols ? "pad_columns[" : "pad_rows[") + b + "](dY)"};
        r.teach = [cols](Functions& f, const Values& in, const Attr& a) {
            const std::size_t R = in.at(0).shape()[0], C = in.at(0).shape()[1], begin = a.begin;
            const std::string name = std::string(cols ? "pad_columns[" : "pad_rows[") + std::to_string(a.begin) + ":" +
                                     std::to_string(a.end) + "]";
            f[name] = [cols, begin, R, C](const Matrix<double>& g) { return ref::pad(g, cols, begin, R, C); };
        };
        if (s.b == 1) {
            const auto c = [&](const char* what, std::size_t b0, std::size_t e0, std::vector<std::string> says) {
                says.push_back("X [4x5]");
                return ErrorCase{what, {{"X", some(4, 5)}}, Raises::shape_error, op + "(X)", says, false, range(b0, e0)};
            };
            const std::string past = cols ? "reaches past the 5 columns of X" : "reaches past the 4 rows of X";
            r.errors = {
                c("an empty range", 2, 2, {"the range [2, 2) is empty"}),
                c("a reversed range", 3, 1, {"the range [3, 1) is reversed (begin 3 > end 1)"}),
                c("a range past the end", 2, 6, {"the range [2, 6) " + past}),
            };
        }
        t.push_back(r);
    }

    // ---- joins
    for (bool cols : {false, true}) {
        const std::string op = cols ? "concat_columns" : "concat_rows";
        const Form two = cols ? form("concat_columns(Var,Var)", [](const auto& v, const Attr&) { return concat_columns(v[0], v[1]); })
                              : form("concat_rows(Var,Var)", [](const auto& v, const Attr&) { return concat_rows(v[0], v[1]); });
        const Form list = cols ? form("concat_columns(vector)", [](const auto& v, const Attr&) { return concat_columns(v); })
                               : form("concat_rows(vector)", [](const auto& v, const Attr&) { return concat_rows(v); });
        const Form braced =
            cols ? form("concat_columns(initializer_list)",
                        [](const auto& v, const Attr&) {
                            return v.size() == 2 ? xg::concat_columns({v[0], v[1]}) : xg::concat_columns({v[0], v[1], v[2]});
                        })
                 : form("concat_rows(initializer_list)", [](const auto& v, const Attr&) {
                       return v.size() == 2 ? xg::concat_rows({v[0], v[1]}) : xg::concat_rows({v[0], v[1], v[2]});
                   });
        for (std::size_t parts : {2, 3}) {
            Row r;
            r.name = op + (parts == 2 ? "" : " (3 parts)");
            r.op = op;
            r.forms = parts == 2 ? std::vector<Form>{two, list, braced} : std::vector<Form>{list, braced};
            r.inputs = parts == 2 ? std::vector<std::string>{"A", "B"} : std::vector<std::string>{"A", "B", "C"};
            r.differentiable = std::vector<bool>(parts, true);
            r.domains = std::vector<Domain>(parts, any());
            r.shapes = [cols, parts](const Dims& d) {
                std::vector<Shape> s{cols ? Shape{d.n, d.m} : Shape{d.n, d.m}, cols ? Shape{d.n, d.k} : Shape{d.k, d.m}};
                if (parts == 3) s.push_back(cols ? Shape{d.n, 1} : Shape{1, d.m});
                return s;
            };
            r.reference = [cols](const Values& in, const Attr&) { return ref::concat(in, cols); };
            r.exact = true;
            r.formula = op + (parts == 2 ? "(A, B)" : "(A, B, C)");
            for (const std::string& x : r.inputs) r.grads.push_back(cols ? "dY[:, columns of " + x + "]" : "dY[rows of " + x + "]");
            if (parts == 2) {
                r.errors = {cols ? ErrorCase{"parts of different heights", {{"A", some(2, 5)}, {"B", some(3, 4)}},
                                             Raises::shape_error, op + "(A, B)",
                                             {"the nodes must have the same number of rows (A has 2, B has 3)", "A [2x5]",
                                              "B [3x4]"}}
                                 : ErrorCase{"parts of different widths", {{"A", some(2, 5)}, {"B", some(3, 4)}},
                                             Raises::shape_error, op + "(A, B)",
                                             {"the nodes must have the same number of columns (A has 5, B has 4)",
                                              "A [2x5]", "B [3x4]"}}};
            }
            t.push_back(r);
        }
    }

    // ---- embedding
    {
        Row r;
        r.name = "embedding";
        r.op = "embedding";
        r.forms = {form("embedding(Var,Var)", [](const auto& v, const Attr&) { return embedding(v[0], v[1]); })};
        r.inputs = {"E", "ids"};
        r.differentiable = {true, false};
        r.domains = {any(), token_index()};
        // A vocabulary of k + 2 tokens, so that some columns of E are not read.
        r.shapes = [](const Dims& d) { return std::vector<Shape>{{d.n, d.k + 2}, {1, d.m}}; };
        r.reference = [](const Values& in, const Attr&) { return ref::embedding(in[0], in[1]); };
        r.exact = true;
        r.reads_every_entry = false;
        r.formula = "E[:, ids]";
        r.grads = {"scatter_columns(dY, ids)", ""};
        r.refuses_nan = {false, true};
        const auto id = [](const char* what, double bad, std::vector<std::string> says) {
            return ErrorCase{std::string("a token id ") + what, {{"E", some(3, 5)}, {"ids", mat({{0, 4, bad, 1}})}},
                             Raises::value_error, "embedding(E, ids)", std::move(says), true};
        };
        r.errors = {
            {"token ids as a column", {{"E", some(3, 5)}, {"ids", fill(4, 1, 1)}}, Raises::shape_error, "embedding(E, ids)",
             {"the token ids ids must be one row of indices (1 x m)", "E [3x5]", "ids [4x1]"}},
            id("out of range (= V)", 5, {"token id ids(0, 2) = 5 is not one of 0, 1, ..., 4", "E has 5 columns"}),
            id("negative", -1, {"token id ids(0, 2) = -1 is not one of 0, 1, ..., 4"}),
            id("not an integer", 2.5, {"token id ids(0, 2) = 2.5 is not one of 0, 1, ..., 4"}),
            id("NaN", nan, {"token id ids(0, 2) is NaN"}),
        };
        t.push_back(r);
    }
}

}  // namespace detail

}  // namespace xgt::op_table
