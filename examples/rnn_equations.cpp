// Backpropagation through time, derived by the machine and checked against
// the course's hand-written RNN and LSTM backward passes.
//
//   rnn_equations            the equations explain prints for an unrolled RNN
//                            and LSTM (the T steps folded into one line each),
//                            then the differences from the hand-written formulas
//   rnn_equations equations  the equations only (docs/explain.md shows them)
//
// The networks: x<t> (n_x × m) → cell → a<t> (n_a × m) for t = 1 … T, then
// ŷ = softmax(Wy · [a<1> … a<T>] + by) over every step at once and the mean
// cross-entropy J of the labels y. The hand-written side is the course's
// code, written out literally below: the output layer's gradient
// dZy = (softmax(Zy) − onehot(y)) / m gives the upstream gradient da<t> of
// each hidden state, and rnn_backward / lstm_backward run the cell backward
// from t = T down to 1, adding up the weights' gradients. Every gradient
// (weights, biases, inputs x<t>, initial states) is compared on several
// random shapes; the program exits with status 1 when a relative difference
// exceeds 1e-12.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include <xtensor/xbuilder.hpp>
#include <xtensor/xmanipulation.hpp>
#include <xtensor/xmath.hpp>
#include <xtensor/xreducer.hpp>
#include <xtensor/xview.hpp>

#include <xgrad/xgrad.hpp>

using Matrix = xg::Matrix<double>;

namespace {

bool show_differences = true;  // false: print the equations only

Matrix random_matrix(std::size_t r, std::size_t c, std::mt19937_64& rng) {
    std::normal_distribution<double> normal(0.0, 1.0);
    Matrix a({r, c});
    for (double& v : a) v = normal(rng);
    return a;
}

// Plain loops, independent of xgrad's BLAS call.
Matrix dot(const Matrix& a, const Matrix& b) {
    Matrix c = xt::zeros<double>({a.shape()[0], b.shape()[1]});
    for (std::size_t i = 0; i < a.shape()[0]; ++i)
        for (std::size_t k = 0; k < a.shape()[1]; ++k)
            for (std::size_t j = 0; j < b.shape()[1]; ++j) c(i, j) += a(i, k) * b(k, j);
    return c;
}
Matrix T_(const Matrix& a) { return xt::transpose(a); }
Matrix sum_columns(const Matrix& a) { return xt::sum(a, {1}, xt::keep_dims); }
Matrix sigmoid(const Matrix& z) { return 1.0 / (1.0 + xt::exp(-z)); }
Matrix rows_of(const Matrix& a, std::size_t b, std::size_t e) { return xt::view(a, xt::range(b, e), xt::all()); }
Matrix cols_of(const Matrix& a, std::size_t b, std::size_t e) { return xt::view(a, xt::all(), xt::range(b, e)); }
Matrix stack(const Matrix& top, const Matrix& bottom) { return xt::concatenate(xt::xtuple(top, bottom), 0); }

// max |a − b| / max |b|
double difference(const Matrix& a, const Matrix& b) {
    double diff = 0, size = 0;
    for (std::size_t k = 0; k < a.size(); ++k) {
        diff = std::max(diff, std::fabs(a.data()[k] - b.data()[k]));
        size = std::max(size, std::fabs(b.data()[k]));
    }
    return diff / std::max(size, 1e-300);
}

struct Shapes {
    std::size_t n_x, n_a, n_y, m, T;
};

/// The data of one comparison: inputs, labels, initial states, output layer.
struct Problem {
    Shapes s;
    std::vector<Matrix> x;
    Matrix y, a0, c0, Wy, by;
};

Problem make_problem(const Shapes& s, std::mt19937_64& rng) {
    Problem p{s, {}, Matrix({1, s.m * s.T}), random_matrix(s.n_a, s.m, rng), random_matrix(s.n_a, s.m, rng),
              random_matrix(s.n_y, s.n_a, rng), random_matrix(s.n_y, 1, rng)};
    for (std::size_t t = 0; t < s.T; ++t) p.x.push_back(random_matrix(s.n_x, s.m, rng));
    for (double& v : p.y) v = double(rng() % s.n_y);
    return p;
}

std::string step(const char* name, std::size_t t) { return std::string(name) + "<" + std::to_string(t) + ">"; }

/// The graph: x<t> and a<0> (and c<0>) as inputs that take a gradient, the
/// cell unrolled, the output layer over all steps, the cross-entropy J.
struct Net {
    xg::Graph<double> g;
    std::vector<xg::Var<double>> x;
    xg::Var<double> a0, c0, J;
    xg::Parameter<double> Wy, by;
};

template <class Unroll>
void build(Net& n, const Problem& p, Unroll unroll) {
    for (std::size_t t = 0; t < p.s.T; ++t) n.x.push_back(n.g.input(p.x[t], step("x", t + 1), true));
    n.a0 = n.g.input(p.a0, "a<0>", true);
    n.c0 = n.g.input(p.c0, "c<0>", true);
    n.Wy = xg::Parameter<double>(p.Wy, "Wy");
    n.by = xg::Parameter<double>(p.by, "by");
    const std::vector<xg::Var<double>> a = unroll(n);
    auto A = concat_columns(a).named("A");
    auto Zy = (matmul(n.g.parameter(n.Wy), A) + n.g.parameter(n.by)).named("Zy");
    n.J = softmax_cross_entropy(Zy, n.g.input(p.y, "y")).named("J");
    n.g.backward(n.J);
}

/// The course's output layer backward: the upstream gradient da<t> of every
/// hidden state, from dZy = (softmax(Zy) − onehot(y)) / m over all T m columns.
std::vector<Matrix> upstream(const Problem& p, const std::vector<Matrix>& a, Matrix& dWy, Matrix& dby) {
    const std::size_t M = p.s.m * p.s.T;
    Matrix A({p.s.n_a, M});
    for (std::size_t t = 0; t < p.s.T; ++t) xt::view(A, xt::all(), xt::range(t * p.s.m, (t + 1) * p.s.m)) = a[t];
    Matrix Zy = dot(p.Wy, A) + p.by;
    // softmax(Zy), each column (reductions evaluated into matrices before they broadcast)
    const Matrix top = xt::amax(Zy, {0}, xt::keep_dims);
    const Matrix e = xt::exp(Zy - top);
    const Matrix total = xt::sum(e, {0}, xt::keep_dims);
    Matrix dZy = e / total;
    for (std::size_t j = 0; j < M; ++j) dZy(std::size_t(p.y(0, j)), j) -= 1.0;
    dZy /= double(M);
    dWy = dot(dZy, T_(A));
    dby = sum_columns(dZy);
    const Matrix dA = dot(T_(p.Wy), dZy);
    std::vector<Matrix> da;
    for (std::size_t t = 0; t < p.s.T; ++t) da.push_back(cols_of(dA, t * p.s.m, (t + 1) * p.s.m));
    return da;
}

/// Differences of the engine's gradients from the hand-written ones.
struct Report {
    double worst = 0;
    void add(const char* what, const xg::Matrix<double>& engine, const Matrix& hand, bool print) {
        const double d = difference(engine, hand);
        worst = std::max(worst, d);
        if (print && show_differences) std::printf("  %-8s %.1e\n", what, d);
    }
};

// ---- RNN ------------------------------------------------------------------------

void compare_rnn(const Problem& p, bool print, Report& r) {
    const Shapes& s = p.s;
    xg::Rng init(1);
    const xg::RNNCell<double> cell(s.n_x, s.n_a, init);
    Net n;
    build(n, p, [&](Net& net) { return xg::unroll(cell, net.x, net.a0); });
    if (print) std::printf("RNN, T = %zu:\n%s", s.T, xg::explain(n.J).c_str());

    // rnn_forward, as the course writes it: a_next = tanh(Wax · xt + Waa · a_prev + ba).
    const Matrix &Wax = cell.Wax.value(), &Waa = cell.Waa.value(), &ba = cell.ba.value();
    std::vector<Matrix> a{p.a0};
    for (std::size_t t = 0; t < s.T; ++t) a.push_back(xt::tanh(dot(Wax, p.x[t]) + dot(Waa, a[t]) + ba));
    Matrix dWy, dby;
    const std::vector<Matrix> da = upstream(p, std::vector<Matrix>(a.begin() + 1, a.end()), dWy, dby);

    // rnn_backward: rnn_cell_backward from t = T down to 1, the weights' gradients added up.
    Matrix dWax = xt::zeros<double>({s.n_a, s.n_x}), dWaa = xt::zeros<double>({s.n_a, s.n_a});
    Matrix dba = xt::zeros<double>({s.n_a, std::size_t(1)}), da_prevt = xt::zeros<double>({s.n_a, s.m});
    std::vector<Matrix> dx(s.T);
    for (std::size_t t = s.T; t-- > 0;) {
        // rnn_cell_backward(da_next = da<t> + da_prevt, cache<t>)
        const Matrix& a_next = a[t + 1];
        const Matrix dtanh = (1.0 - a_next * a_next) * (da[t] + da_prevt);
        dx[t] = dot(T_(Wax), dtanh);
        dWax += dot(dtanh, T_(p.x[t]));
        da_prevt = dot(T_(Waa), dtanh);
        dWaa += dot(dtanh, T_(a[t]));
        dba += sum_columns(dtanh);
    }
    if (print && show_differences) std::printf("differences from the course's rnn_backward (max |autodiff − hand| / max |hand|):\n");
    r.add("dWy", n.Wy.grad(), dWy, print);
    r.add("dby", n.by.grad(), dby, print);
    r.add("dWax", cell.Wax.grad(), dWax, print);
    r.add("dWaa", cell.Waa.grad(), dWaa, print);
    r.add("dba", cell.ba.grad(), dba, print);
    r.add("da0", n.a0.grad(), da_prevt, print);
    for (std::size_t t = 0; t < s.T; ++t) r.add(("dx<" + std::to_string(t + 1) + ">").c_str(), n.x[t].grad(), dx[t], print);
}

// ---- LSTM -----------------------------------------------------------------------

void compare_lstm(const Problem& p, bool print, Report& r) {
    const Shapes& s = p.s;
    const std::size_t n_a = s.n_a;
    xg::Rng init(2);
    const xg::LSTMCell<double> cell(s.n_x, n_a, init);
    Net n;
    build(n, p, [&](Net& net) {
        std::vector<xg::Var<double>> a;
        for (const auto& st : xg::unroll(cell, net.x, {net.a0, net.c0})) a.push_back(st.a);
        return a;
    });
    if (print) std::printf("LSTM, T = %zu:\n%s", s.T, xg::explain(n.J).c_str());

    // The course's four weight matrices and biases, cut out of W = [Wf; Wi; Wc; Wo] and b.
    const Matrix &W = cell.W.value(), &b = cell.b.value();
    const Matrix Wf = rows_of(W, 0, n_a), Wi = rows_of(W, n_a, 2 * n_a), Wc = rows_of(W, 2 * n_a, 3 * n_a),
                 Wo = rows_of(W, 3 * n_a, 4 * n_a);
    const Matrix bf = rows_of(b, 0, n_a), bi = rows_of(b, n_a, 2 * n_a), bc = rows_of(b, 2 * n_a, 3 * n_a),
                 bo = rows_of(b, 3 * n_a, 4 * n_a);
    // lstm_forward: lstm_cell_forward at each step, its cache kept.
    struct Cache {
        Matrix a_next, c_next, a_prev, c_prev, ft, it, cct, ot, concat;
    };
    std::vector<Cache> caches;
    std::vector<Matrix> a;
    Matrix a_prev = p.a0, c_prev = p.c0;
    for (std::size_t t = 0; t < s.T; ++t) {
        const Matrix concat = stack(a_prev, p.x[t]);
        const Matrix ft = sigmoid(dot(Wf, concat) + bf);
        const Matrix it = sigmoid(dot(Wi, concat) + bi);
        const Matrix cct = xt::tanh(dot(Wc, concat) + bc);
        const Matrix c_next = ft * c_prev + it * cct;
        const Matrix ot = sigmoid(dot(Wo, concat) + bo);
        const Matrix a_next = ot * xt::tanh(c_next);
        caches.push_back({a_next, c_next, a_prev, c_prev, ft, it, cct, ot, concat});
        a.push_back(a_next);
        a_prev = a_next;
        c_prev = c_next;
    }
    Matrix dWy, dby;
    const std::vector<Matrix> da = upstream(p, a, dWy, dby);

    // lstm_backward: lstm_cell_backward from t = T down to 1.
    const std::size_t nc = n_a + s.n_x;
    Matrix dWf = xt::zeros<double>({n_a, nc}), dWi = dWf, dWc = dWf, dWo = dWf;
    Matrix dbf = xt::zeros<double>({n_a, std::size_t(1)}), dbi = dbf, dbc = dbf, dbo = dbf;
    Matrix da_prevt = xt::zeros<double>({n_a, s.m}), dc_prevt = da_prevt;
    std::vector<Matrix> dx(s.T);
    for (std::size_t t = s.T; t-- > 0;) {
        const Cache& k = caches[t];
        const Matrix da_next = da[t] + da_prevt, dc_next = dc_prevt;
        const Matrix tc = xt::tanh(k.c_next);
        // the gates' derivatives
        const Matrix dot_ = da_next * tc * k.ot * (1.0 - k.ot);
        const Matrix dcct = (dc_next * k.it + k.ot * (1.0 - tc * tc) * k.it * da_next) * (1.0 - k.cct * k.cct);
        const Matrix dit = (dc_next * k.cct + k.ot * (1.0 - tc * tc) * k.cct * da_next) * k.it * (1.0 - k.it);
        const Matrix dft = (dc_next * k.c_prev + k.ot * (1.0 - tc * tc) * k.c_prev * da_next) * k.ft * (1.0 - k.ft);
        // the parameters' derivatives
        dWf += dot(dft, T_(k.concat));
        dWi += dot(dit, T_(k.concat));
        dWc += dot(dcct, T_(k.concat));
        dWo += dot(dot_, T_(k.concat));
        dbf += sum_columns(dft);
        dbi += sum_columns(dit);
        dbc += sum_columns(dcct);
        dbo += sum_columns(dot_);
        // the previous hidden state, memory state and input
        da_prevt = dot(T_(cols_of(Wf, 0, n_a)), dft) + dot(T_(cols_of(Wi, 0, n_a)), dit) +
                   dot(T_(cols_of(Wc, 0, n_a)), dcct) + dot(T_(cols_of(Wo, 0, n_a)), dot_);
        dc_prevt = dc_next * k.ft + k.ot * (1.0 - tc * tc) * k.ft * da_next;
        dx[t] = dot(T_(cols_of(Wf, n_a, nc)), dft) + dot(T_(cols_of(Wi, n_a, nc)), dit) +
                dot(T_(cols_of(Wc, n_a, nc)), dcct) + dot(T_(cols_of(Wo, n_a, nc)), dot_);
    }
    if (print && show_differences) std::printf("differences from the course's lstm_backward (max |autodiff − hand| / max |hand|):\n");
    const Matrix &dW = cell.W.grad(), &db = cell.b.grad();
    r.add("dWy", n.Wy.grad(), dWy, print);
    r.add("dby", n.by.grad(), dby, print);
    r.add("dWf", rows_of(dW, 0, n_a), dWf, print);
    r.add("dWi", rows_of(dW, n_a, 2 * n_a), dWi, print);
    r.add("dWc", rows_of(dW, 2 * n_a, 3 * n_a), dWc, print);
    r.add("dWo", rows_of(dW, 3 * n_a, 4 * n_a), dWo, print);
    r.add("dbf", rows_of(db, 0, n_a), dbf, print);
    r.add("dbi", rows_of(db, n_a, 2 * n_a), dbi, print);
    r.add("dbc", rows_of(db, 2 * n_a, 3 * n_a), dbc, print);
    r.add("dbo", rows_of(db, 3 * n_a, 4 * n_a), dbo, print);
    r.add("da0", n.a0.grad(), da_prevt, print);
    r.add("dc0", n.c0.grad(), dc_prevt, print);
    for (std::size_t t = 0; t < s.T; ++t) r.add(("dx<" + std::to_string(t + 1) + ">").c_str(), n.x[t].grad(), dx[t], print);
}

}  // namespace

int main(int argc, char** argv) {
    show_differences = !(argc > 1 && std::string(argv[1]) == "equations");
    std::mt19937_64 rng(2026);
    // The course's shapes first (printed), then random ones.
    std::vector<Shapes> shapes{{3, 5, 2, 10, 4}};
    for (int k = 0; k < 20; ++k) shapes.push_back({1 + rng() % 6, 1 + rng() % 8, 2 + rng() % 5, 1 + rng() % 9, 1 + rng() % 7});
    Report rnn, lstm;
    for (std::size_t k = 0; k < shapes.size(); ++k) {
        const Problem p = make_problem(shapes[k], rng);
        compare_rnn(p, k == 0, rnn);
        if (k == 0) std::printf("\n");
        compare_lstm(p, k == 0, lstm);
    }
    if (!show_differences) return rnn.worst <= 1e-12 && lstm.worst <= 1e-12 ? 0 : 1;
    std::printf("\n%zu random shapes: largest difference %.1e (RNN), %.1e (LSTM)\n", shapes.size(), rnn.worst, lstm.worst);
    const bool ok = rnn.worst <= 1e-12 && lstm.worst <= 1e-12;
    std::printf("%s\n", ok ? "all within 1e-12" : "DIFFERENCES ABOVE 1e-12");
    return ok ? 0 : 1;
}
