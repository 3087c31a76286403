// The op table itself (tests/op_table.hpp): every function and operator that
// include/xgrad/ops.hpp exports has a row, the rows are well formed, and a
// NaN goes through every op as IEEE arithmetic takes it: into the output
// entries and the gradients that depend on it (or the row says the op
// refuses it, with a ValueError that says the entry is NaN).
#include <doctest/doctest.h>

#include <cstdlib>
#include <fstream>
#include <limits>
#include <random>
#include <regex>
#include <set>
#include <sstream>

#include "helpers.hpp"
#include "op_table.hpp"
#include "sym_eval.hpp"

using xg::Matrix;
using namespace xgt;
namespace ot = xgt::op_table;

namespace {

const double a_nan = std::numeric_limits<double>::quiet_NaN();

// ---- the exported names of ops.hpp -------------------------------------------------

/// The text without comments.
std::string strip_comments(const std::string& s) {
    std::string out;
    for (std::size_t i = 0; i < s.size();) {
        if (s.compare(i, 2, "//") == 0) {
            i = s.find('\n', i);
            if (i == std::string::npos) break;
        } else if (s.compare(i, 2, "/*") == 0) {
            i = s.find("*/", i + 2);
            if (i == std::string::npos) break;
            i += 2;
        } else {
            out += s[i++];
        }
    }
    return out;
}

/// The text without the bodies of `namespace detail { … }`.
std::string strip_detail(const std::string& s) {
    std::string out = s;
    for (std::size_t p = out.find("namespace detail"); p != std::string::npos; p = out.find("namespace detail", p)) {
        std::size_t i = out.find('{', p);
        int depth = 0;
        std::size_t j = i;
        for (; j < out.size(); ++j) {
            if (out[j] == '{') ++depth;
            if (out[j] == '}' && --depth == 0) break;
        }
        out.erase(p, j + 1 - p);
    }
    return out;
}

/// Every exported function and operator on Vars of a header like ops.hpp, as
/// the table writes them: "name(Var,double)" (Var for Var<T>, defaults dropped).
std::set<std::string> exported_calls(const std::string& header_text) {
    const std::string text = strip_detail(strip_comments(header_text));
    const std::regex decl(R"(template\s*<\s*class\s+T\s*>\s*Var\s*<\s*T\s*>\s+(operator\s*[^\s(]+|\w+)\s*\(([^)]*)\))");
    std::set<std::string> calls;
    for (auto it = std::sregex_iterator(text.begin(), text.end(), decl); it != std::sregex_iterator(); ++it) {
        std::string name = (*it)[1].str();
        name.erase(std::remove_if(name.begin(), name.end(), [](char c) { return c == ' ' || c == '\t'; }), name.end());
        std::string params = (*it)[2].str(), key = name + "(";
        std::stringstream ps(params);
        bool first = true;
        for (std::string p; std::getline(ps, p, ',');) {
            p = p.substr(0, p.find('='));
            // The type is the parameter without its name: its first word (Var<T>, double, Axis),
            // after any const and std:: (size_t, vector).
            const std::smatch m = [&] {
                std::smatch r;
                std::regex_search(p, r, std::regex(R"(^\s*(?:const\s+)?(?:std::)?(\w+))"));
                return r;
            }();
            if (!first) key += ",";
            key += m[1].str();
            first = false;
        }
        calls.insert(key + ")");
    }
    return calls;
}

std::string read_text(const std::string& path) {
    std::ifstream f(path);
    std::stringstream s;
    s << f.rdbuf();
    return s.str();
}

// ---- building a row ------------------------------------------------------------------

/// A row built on leaves holding `values`: differentiable inputs are
/// parameters, the others inputs; leaves are named as the row names its inputs.
struct Built {
    xg::Graph<double> g;
    std::vector<xg::Var<double>> leaves;
    xg::Var<double> out;
};

void build(Built& b, const ot::Row& r, const ot::Values& values) {
    for (std::size_t i = 0; i < r.arity(); ++i) {
        b.leaves.push_back(r.differentiable[i] ? b.g.parameter(values[i], r.inputs[i]) : b.g.input(values[i], r.inputs[i]));
    }
    b.out = r.build(b.leaves, r.attr);
}

/// The row's hidden numbers (leaky_relu's α, onehot's K) for the evaluator.
SymEnv env_for(const ot::Row& r, const xg::Graph<double>& g, std::uint32_t id) {
    SymEnv env;
    if (r.teach) {
        ot::Values in;
        for (std::uint32_t j : g.inputs(id)) in.push_back(g.value(j));
        ot::Functions f;
        r.teach(f, in, r.attr);
        for (auto& [name, fn] : f) env.matrix_functions[name] = fn;
    }
    if (r.teach_named) {
        ot::Named n;
        r.teach_named(n, g, id, r.attr);
        for (auto& [name, m] : n.vars) env.vars[name] = m;
        for (auto& [name, v] : n.symbols) env.symbols[name] = v;
    }
    return env;
}

/// "" when `a` (the engine's) and `b` (the formula's) hold NaN at the same
/// entries and agree elsewhere; otherwise the first entry that differs.
std::string nan_pattern_differs(const Matrix<double>& a, const Matrix<double>& b) {
    if (a.shape() != b.shape()) return "shapes differ";
    for (std::size_t k = 0; k < a.size(); ++k) {
        const double x = a.data()[k], y = b.data()[k];
        const bool same = std::isnan(x) ? std::isnan(y)
                                         : !std::isnan(y) && (x == y || std::fabs(x - y) <= 1e-9 * std::max(1.0, std::fabs(y)));
        if (!same) {
            std::ostringstream s;
            s << "entry " << k << ": the engine gives " << x << ", the formula " << y;
            return s.str();
        }
    }
    return "";
}

/// J = Σ W ⊙ Y for the given weights: the gradient arriving at Y is W.
xg::Var<double> weighted(xg::Var<double> y, const Matrix<double>& w) {
    return y.graph().apply(std::make_shared<const WeightedSum<double>>(w), {y});
}

/// Check node `out`'s value and every input gradient against its formulas
/// evaluated as numbers, NaN for NaN. Returns how many entries held NaN.
std::size_t check_against_formulas(const ot::Row& r, Built& b, const Matrix<double>& w) {
    const std::uint32_t id = b.out.id();
    const xg::Var<double> J = weighted(b.out, w);
    if (b.g.requires_grad(J.id())) b.g.backward(J);
    const NodeFormulaValues f = eval_node_formulas(b.g, id, env_for(r, b.g, id));
    std::size_t nans = 0;
    {
        INFO("the value of " << r.op);
        const std::string d = nan_pattern_differs(b.out.value(), f.value);
        CHECK_MESSAGE(d.empty(), d);
        for (double v : b.out.value()) nans += std::isnan(v);
    }
    const std::vector<std::uint32_t>& in = b.g.inputs(id);
    for (std::size_t j = 0; j < in.size(); ++j) {
        if (!f.grads[j]) continue;
        INFO("the gradient sent to input " << j << " (" << b.g.name(in[j]) << ")");
        const std::string d = nan_pattern_differs(b.g.grad(in[j]), *f.grads[j]);
        CHECK_MESSAGE(d.empty(), d);
        for (double v : b.g.grad(in[j])) nans += std::isnan(v);
    }
    return nans;
}

const ot::Dims nan_dims[] = {{3, 4, 2}, {2, 1, 3}};

}  // namespace

TEST_CASE("the exported names of a header are read as the op table writes them") {
    const std::string text = R"(
        namespace xg {
        /// A comment: template <class T> Var<T> not_this(Var<T> x);
        template <class T>
        Var<T> matmul(Var<T> a, Var<T> b);
        template <class T>
        Var<T> operator+(Var<T> x, double s) { return detail::scalar_op(x, s); }
        template <class T>
        Var<T> operator-(Var<T> x) { return neg(x); }
        template <class T>
        Var<T> sum(Var<T> x, Axis axis = Axis::all);
        template <class T>
        Var<T> rows(Var<T> x, std::size_t begin, std::size_t end);
        template <class T>
        Var<T> concat_rows(const std::vector<Var<T>>& parts);
        namespace detail {
        template <class T>
        Var<T> scalar_op(Var<T> x, ScalarKind kind, double s);
        }
        }
    )";
    CHECK(exported_calls(text) ==
          std::set<std::string>{"matmul(Var,Var)", "operator+(Var,double)", "operator-(Var)", "sum(Var,Axis)",
                                 "rows(Var,size_t,size_t)", "concat_rows(vector)"});
}

TEST_CASE("every function and operator of include/xgrad/ops.hpp has a row in the op table") {
    const char* root = std::getenv("XGRAD_SOURCE_ROOT");
    REQUIRE_MESSAGE(root != nullptr, "set XGRAD_SOURCE_ROOT to the source tree (tests/meson.build does)");
    const std::string text = read_text(std::string(root) + "/include/xgrad/ops.hpp");
    REQUIRE(!text.empty());
    const std::set<std::string> exported = exported_calls(text);
    std::set<std::string> covered;
    for (const ot::Row& r : ot::rows()) {
        for (const ot::Form& f : r.forms) covered.insert(f.call);
    }
    for (const std::string& e : exported) CHECK_MESSAGE(covered.count(e), e << " is exported by ops.hpp but has no row");
    for (const std::string& c : covered) CHECK_MESSAGE(exported.count(c), "a row calls " << c << ", which ops.hpp does not export");
    CHECK(exported.size() >= 35);
    std::printf("op table: %zu rows covering the %zu functions and operators of ops.hpp\n", ot::rows().size(),
                exported.size());
}

TEST_CASE("the op table's rows are well formed") {
    std::set<std::string> names;
    for (const ot::Row& r : ot::rows()) {
        CAPTURE(r.name);
        CHECK(names.insert(r.name).second);
        CHECK(!r.forms.empty());
        CHECK(r.differentiable.size() == r.arity());
        CHECK(r.domains.size() == r.arity());
        CHECK(r.refuses_nan.size() <= r.arity());
        for (const ot::Dims& d : {ot::Dims{1, 1, 1}, ot::Dims{3, 4, 2}}) CHECK(r.shapes(d).size() == r.arity());
        for (std::size_t i = 0; i < r.arity(); ++i) {
            // Labels are data: never differentiated.
            if (r.domains[i].data()) CHECK_FALSE(r.differentiable[i]);
        }
        for (const ot::ErrorCase& e : r.errors) {
            CAPTURE(e.what);
            CHECK(e.inputs.size() == r.arity());
            CHECK(e.call.find(r.op + "(") == 0);
        }
    }
}

TEST_CASE("NaN in an input goes where IEEE arithmetic takes it, in every op's value and gradients") {
    // Each input of each row (labels aside) gets a NaN at each entry in turn.
    // The engine's value and every input gradient must hold NaN exactly where
    // the op's printed formulas, evaluated in IEEE arithmetic, hold one (and
    // the formulas' numbers elsewhere), or the row refuses the NaN with a
    // ValueError that says so.
    std::mt19937_64 rng(71);
    std::size_t propagated = 0, refused = 0, graphs = 0;
    for (const ot::Row& r : ot::rows()) {
        CAPTURE(r.name);
        for (const ot::Dims& dims : nan_dims) {
            const ot::Values clean = ot::sample(r, dims, rng);
            for (std::size_t i = 0; i < r.arity(); ++i) {
                if (r.domains[i].data()) continue;
                CAPTURE(i);
                for (std::size_t k = 0; k < clean[i].size(); ++k) {
                    CAPTURE(k);
                    ot::Values v = clean;
                    v[i].data()[k] = a_nan;
                    Built b;
                    ++graphs;
                    if (r.refuses_nan_at(i)) {
                        const std::string msg = message_of<xg::ValueError>([&] { build(b, r, v); });
                        CHECK(contains(msg, "is NaN"));
                        ++refused;
                        continue;
                    }
                    try {
                        build(b, r, v);
                    } catch (const xg::Error& e) {
                        FAIL_CHECK("the row does not declare that it refuses NaN, but: " << std::string(e.what()));
                        continue;
                    }
                    const xg::Shape s = b.out.shape();
                    const std::size_t nans = check_against_formulas(r, b, randn(s.rows, s.cols, rng));
                    // A slice or a lookup leaves some entries unread: a NaN there shows nowhere
                    // (where it does show was just checked against the formulas).
                    if (r.reads_every_entry) CHECK(nans > 0);
                    ++propagated;
                }
            }
        }
    }
    std::printf("NaN in an input: %zu graphs, %zu propagated as IEEE arithmetic does, %zu refused\n", graphs,
                propagated, refused);
    CHECK(propagated > 1000);
}

TEST_CASE("NaN in the incoming gradient goes where IEEE arithmetic takes it, in every op's gradients") {
    // g ⊙ step(X) is NaN where g is NaN, even where X ≤ 0 (NaN · 0 = NaN).
    std::mt19937_64 rng(72);
    std::size_t graphs = 0;
    for (const ot::Row& r : ot::rows()) {
        CAPTURE(r.name);
        if (std::none_of(r.differentiable.begin(), r.differentiable.end(), [](bool d) { return d; })) continue;
        for (const ot::Dims& dims : nan_dims) {
            const ot::Values v = ot::sample(r, dims, rng);
            Built probe;
            build(probe, r, v);
            const xg::Shape s = probe.out.shape();
            for (std::size_t k = 0; k < s.size(); ++k) {
                CAPTURE(k);
                Built b;
                build(b, r, v);
                Matrix<double> w = randn(s.rows, s.cols, rng);
                w.data()[k] = a_nan;
                CHECK(check_against_formulas(r, b, w) > 0);
                ++graphs;
            }
        }
    }
    CHECK(graphs > 300);
}
