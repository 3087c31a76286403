// The op table's rows for regularisation and normalisation (dropout,
// batch_norm, layer_norm, l2_penalty) and their plain-loop references.
// Included by tests/op_table.hpp in the middle of it (it uses the table's
// types and helpers); not a header of its own.
//
// Dropout draws its mask from the graph's generator: a new graph is seeded
// with 0, and each check builds the row's node first on a new graph, so its
// mask is D = (U < keep_prob) for U the first draws of xg::Rng(0), row by row
// (the reference reads it so); the formulas read the mask back from the node.
#pragma once

namespace xgt::op_table {

namespace ref {

/// The mask the first dropout node of a new graph draws for an n × m input.
inline Matrix<double> first_mask(std::size_t n, std::size_t m, double keep) {
    xg::Rng rng(0);
    Matrix<double> d({n, m});
    for (double& v : d) v = rng.uniform() < keep ? 1.0 : 0.0;
    return d;
}

/// μ and σ = √(var + ε) of each row (over the columns) or of each column (over the rows), and X̂.
struct NormStats {
    Matrix<double> mu, sigma, xhat;
};

inline NormStats norm_stats(const Matrix<double>& x, bool per_row, double eps = 1e-5) {
    const std::size_t n = x.shape()[0], m = x.shape()[1];
    const std::size_t groups = per_row ? n : m, len = per_row ? m : n;
    NormStats s;
    s.mu = per_row ? Matrix<double>({n, 1}) : Matrix<double>({1, m});
    s.sigma = s.mu;
    s.xhat = Matrix<double>(x.shape());
    for (std::size_t a = 0; a < groups; ++a) {
        const auto at = [&](std::size_t b) { return per_row ? x(a, b) : x(b, a); };
        double mu = 0, v = 0;
        for (std::size_t b = 0; b < len; ++b) mu += at(b);
        mu /= double(len);
        for (std::size_t b = 0; b < len; ++b) v += (at(b) - mu) * (at(b) - mu);
        const double sd = std::sqrt(v / double(len) + eps);
        s.mu.data()[a] = mu;
        s.sigma.data()[a] = sd;
        for (std::size_t b = 0; b < len; ++b) (per_row ? s.xhat(a, b) : s.xhat(b, a)) = (at(b) - mu) / sd;
    }
    return s;
}

/// γ ⊙ X̂ + β for γ, β of one entry per row.
inline Matrix<double> affine(const NormStats& s, const Matrix<double>& gamma, const Matrix<double>& beta) {
    Matrix<double> y(s.xhat.shape());
    for (std::size_t i = 0; i < y.shape()[0]; ++i)
        for (std::size_t j = 0; j < y.shape()[1]; ++j) y(i, j) = gamma(i, 0) * s.xhat(i, j) + beta(i, 0);
    return y;
}

}  // namespace ref

namespace detail {

/// Running averages for x's rows (batch_norm's second form).
template <class T>
xg::RunningStats<T> running_for(const xg::Var<T>& x) {
    return xg::RunningStats<T>(x.shape().rows);
}

/// The Parameters behind two parameter leaves (l2_penalty's second form).
template <class T>
std::vector<xg::Parameter<T>> parameters_of(const xg::Var<T>& a, const xg::Var<T>& b) {
    return {a.graph().parameter_of(a.id()), b.graph().parameter_of(b.id())};
}

/// x / σ, σ broadcast (a column or a row).
inline Matrix<double> over(const Matrix<double>& x, const Matrix<double>& sigma) {
    Matrix<double> y(x.shape());
    for (std::size_t i = 0; i < x.shape()[0]; ++i)
        for (std::size_t j = 0; j < x.shape()[1]; ++j) y(i, j) = x(i, j) / ref::at(sigma, i, j);
    return y;
}

/// A normalisation row: X (n × m), γ and β (n × 1); `per_row` for batch_norm
/// (statistics of each row over the columns), else layer_norm's.
inline Row norm_row(const std::string& name, const std::string& op, std::vector<Form> forms, bool per_row,
                    const std::string& grad_x) {
    Row r;
    r.name = name;
    r.op = op;
    r.forms = std::move(forms);
    r.inputs = {"X", "γ", "β"};
    r.differentiable = {true, true, true};
    r.domains = {any(), any(), any()};
    // Two or more examples (batch_norm) or features (layer_norm): one has variance 0.
    r.shapes = [per_row](const Dims& d) {
        const Shape x = per_row ? Shape{d.n, d.m + 1} : Shape{d.n + 1, d.m};
        return std::vector<Shape>{x, {x.rows, 1}, {x.rows, 1}};
    };
    r.reference = [per_row](const Values& in, const Attr&) {
        return ref::affine(ref::norm_stats(in[0], per_row), in[1], in[2]);
    };
    r.formula = "γ ⊙ (X − μ) / σ + β";
    r.grads = {grad_x, "Σ_columns(dY ⊙ X̂)", "Σ_columns dY"};
    r.teach = [per_row](Functions& f, const Values& in, const Attr&) {
        const Matrix<double> sigma = ref::norm_stats(in[0], per_row).sigma;
        f["{} / σ"] = [sigma](const Matrix<double>& x) { return over(x, sigma); };
    };
    r.teach_named = [per_row](Named& n, const xg::Graph<double>& g, std::uint32_t id, const Attr&) {
        const Matrix<double>& x = g.value(g.inputs(id).at(0));
        const ref::NormStats s = ref::norm_stats(x, per_row);
        // The row's X has one row or column more than the dims say: m and n are its own.
        n.symbols["m"] = double(x.shape()[1]);
        n.symbols["n"] = double(x.shape()[0]);
        n.vars["μ"] = s.mu;
        n.vars["σ"] = s.sigma;
        n.vars["X̂"] = s.xhat;
    };
    return r;
}

inline void add_regularisation_rows(std::vector<Row>& t) {
    const double nan = std::numeric_limits<double>::quiet_NaN();
    {
        Row r = unary("dropout", "dropout",
                      {form("dropout(Var,double,string)", [](const auto& v, const Attr& a) { return dropout(v[0], a.number); })},
                      any(), {}, "X", "D ⊙ X / keep_prob", "D ⊙ dY / keep_prob", Attr{0.8});
        r.reference = [](const Values& in, const Attr& a) {
            const Matrix<double> d = ref::first_mask(in[0].shape()[0], in[0].shape()[1], a.number);
            Matrix<double> y(in[0].shape());
            for (std::size_t k = 0; k < y.size(); ++k) y.data()[k] = d.data()[k] * in[0].data()[k] / a.number;
            return y;
        };
        r.teach = [](Functions& f, const Values&, const Attr& a) {
            const double keep = a.number;
            f["{} / keep_prob"] = [keep](const Matrix<double>& x) { return Matrix<double>(x / keep); };
        };
        r.teach_named = [](Named& n, const xg::Graph<double>& g, std::uint32_t id, const Attr&) {
            n.vars["D"] = xg::dropout_mask(xg::Var<double>(const_cast<xg::Graph<double>*>(&g), id));
        };
        const auto bad = [](const char* what, double keep, const char* shown) {
            return ErrorCase{what, {{"A1", some(3, 4)}}, Raises::value_error, "dropout(A1)",
                             {std::string("keep_prob must lie in (0, 1], got ") + shown}, false, Attr{keep}};
        };
        r.errors = {bad("keep_prob 0 (every unit dropped)", 0.0, "0"), bad("keep_prob above 1", 1.5, "1.5"),
                    bad("a NaN keep_prob", nan, "nan")};
        t.push_back(r);
    }
    {
        const std::string dx = "(1 / m) (γ / σ) ⊙ (m dY − Σ_columns dY − X̂ ⊙ Σ_columns(dY ⊙ X̂))";
        Row r = norm_row("batch_norm", "batch_norm",
                         {form("batch_norm(Var,Var,Var,double,string)",
                               [](const auto& v, const Attr&) { return batch_norm(v[0], v[1], v[2]); }),
                          form("batch_norm(Var,Var,Var,RunningStats,double,string)",
                               [](const auto& v, const Attr&) { return batch_norm(v[0], v[1], v[2], running_for(v[0])); })},
                         true, dx);
        r.errors = {
            {"a batch of one column in training mode", {{"Z1", some(3, 1)}, {"γ1", fill(3, 1, 1)}, {"β1", fill(3, 1, 0)}},
             Raises::value_error, "batch_norm(Z1, γ1, β1)", {"a batch of one column in training mode", "variance is 0"}},
            {"a scale of the wrong length", {{"Z1", some(3, 4)}, {"γ1", fill(2, 1, 1)}, {"β1", fill(3, 1, 0)}},
             Raises::shape_error, "batch_norm(Z1, γ1, β1)", {"must be n x 1", "Z1 [3x4]", "γ1 [2x1]", "β1 [3x1]"}},
            {"a shift given as a row", {{"Z1", some(3, 4)}, {"γ1", fill(3, 1, 1)}, {"β1", fill(1, 4, 0)}},
             Raises::shape_error, "batch_norm(Z1, γ1, β1)", {"must be n x 1", "β1 [1x4]"}},
        };
        t.push_back(r);
    }
    {
        const std::string dx = "(1 / n) (1 / σ) ⊙ (n γ ⊙ dY − Σ_rows(γ ⊙ dY) − X̂ ⊙ Σ_rows(γ ⊙ dY ⊙ X̂))";
        Row r = norm_row("layer_norm", "layer_norm",
                         {form("layer_norm(Var,Var,Var,double,string)",
                               [](const auto& v, const Attr&) { return layer_norm(v[0], v[1], v[2]); })},
                         false, dx);
        r.errors = {
            {"one feature per example", {{"A1", some(1, 5)}, {"γ1", fill(1, 1, 1)}, {"β1", fill(1, 1, 0)}},
             Raises::shape_error, "layer_norm(A1, γ1, β1)", {"A1 has one row", "A1 [1x5]"}},
            {"a scale of the wrong length", {{"A1", some(3, 4)}, {"γ1", fill(4, 1, 1)}, {"β1", fill(3, 1, 0)}},
             Raises::shape_error, "layer_norm(A1, γ1, β1)", {"must be n x 1", "γ1 [4x1]"}},
        };
        t.push_back(r);
    }
    {
        Row r;
        r.name = "l2_penalty";
        r.op = "l2_penalty";
        r.forms = {form("l2_penalty(Var,vector,double)",
                        [](const auto& v, const Attr& a) {
                            return l2_penalty(v[0], std::vector<std::decay_t<decltype(v[0])>>{v[1], v[2]}, a.number);
                        }),
                   form("l2_penalty(Var,vector,double)", [](const auto& v, const Attr& a) {
                       return l2_penalty(v[0], parameters_of(v[1], v[2]), a.number);
                   })};
        r.inputs = {"X", "W1", "W2"};
        r.differentiable = {false, true, true};
        // X only lends its number of columns m: it is data, as labels are.
        r.domains = {labels01(), any(), any()};
        r.shapes = [](const Dims& d) { return std::vector<Shape>{{d.k, d.m}, {d.n, d.k}, {d.n, d.m}}; };
        r.reference = [](const Values& in, const Attr& a) {
            double s = 0;
            for (std::size_t i = 1; i < 3; ++i)
                for (double w : in[i]) s += w * w;
            return ref::scalar(a.number * s / (2.0 * double(in[0].shape()[1])));
        };
        r.attr = Attr{0.7};
        r.takes_number = true;
        r.scalar = true;
        r.out = "J";
        r.formula = "(λ / (2 m)) (Σ_all W1² + Σ_all W2²)";
        r.grads = {"", "(λ / m) dJ ⊙ W1", "(λ / m) dJ ⊙ W2"};
        r.teach_named = [](Named& n, const xg::Graph<double>&, std::uint32_t, const Attr& a) { n.symbols["λ"] = a.number; };
        r.errors = {
            {"a negative λ", {{"X", some(2, 5)}, {"W1", some(3, 2)}, {"W2", some(1, 3)}}, Raises::value_error,
             "l2_penalty(X, W1, W2)", {"lambda must be finite and not negative, got -1"}, false, Attr{-1.0}},
        };
        t.push_back(r);
    }
}

}  // namespace detail

}  // namespace xgt::op_table
