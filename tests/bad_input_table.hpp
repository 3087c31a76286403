// The bad-input table: the mistakes a user can make, each of which xgrad
// must answer with a typed exception, written down as data.
//
// Every case starts from a fresh fixture — the lecture's two-layer network on
// five examples, plus a checkpoint and data files in a scratch folder — sets
// its mistake up, makes it, and the runner checks three things:
//   1. the exception's type (ShapeError, ValueError, GraphError, IoError);
//   2. that its message names what it must: the op, the nodes and the
//      shapes, or the file and what is wrong with it;
//   3. that nothing was damaged: the graph (size, shapes, values, gradients),
//      the parameters and every byte in the scratch folder are as they were,
//      and forward() and backward() still give the numbers of before.
//
// Used by tests/test_bad_input.cpp (float and double) and by
// docs/examples/bad_input_table.cpp, which prints the table shown in
// docs/reliability.md. No test framework here: the runner returns results.
#pragma once

#include <stdlib.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <limits>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "op_table.hpp"
#include "xgrad/xgrad.hpp"

namespace xgt::bad_input {

namespace fs = std::filesystem;
using xg::Matrix;

/// The exception a case must raise.
enum class Expect { shape_error, value_error, graph_error, io_error };

inline const char* name_of(Expect e) {
    switch (e) {
        case Expect::shape_error: return "ShapeError";
        case Expect::value_error: return "ValueError";
        case Expect::graph_error: return "GraphError";
        case Expect::io_error: return "IoError";
    }
    return "?";
}

/// What the error may have changed.
enum class After {
    /// Raised before anything changed: the graph (size, shapes, values,
    /// gradients), the parameters and the files are exactly as they were.
    kept,
    /// Raised in the middle of forward() or backward() over new data: the
    /// shapes, the parameters and the files are as they were; nodes already
    /// replayed hold the new data's values. Once the case puts the good data
    /// back, forward() and backward() give exactly the numbers of before.
    rerun,
};

// ---- small tools ------------------------------------------------------------

/// A matrix from rows of numbers (double literals, converted to T).
template <class T>
Matrix<T> mat(std::initializer_list<std::initializer_list<double>> rows) {
    const std::size_t r = rows.size(), c = rows.begin()->size();
    Matrix<T> m({r, c});
    std::size_t i = 0;
    for (const auto& row : rows) {
        std::size_t j = 0;
        for (double v : row) m(i, j++) = T(v);
        ++i;
    }
    return m;
}

/// A seeded N(0, 1) matrix (the same numbers on every platform).
template <class T>
Matrix<T> randm(std::size_t r, std::size_t c, std::uint32_t seed) {
    xg::Rng rng(seed);
    return xg::randn<T>(r, c, rng);
}

template <class T>
Matrix<T> full(std::size_t r, std::size_t c, double v) {
    Matrix<T> m({r, c});
    for (auto& x : m) x = T(v);
    return m;
}

inline std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

inline void write_file(const std::string& path, const std::string& bytes) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), std::streamsize(bytes.size()));
    if (!out) throw std::runtime_error("cannot write " + path);
}

/// An IDX file's header: the magic 0 0 type rank, then each size as a
/// big-endian 32-bit number.
inline std::string idx_header(unsigned char type, const std::vector<std::uint32_t>& dims) {
    std::string h{'\0', '\0', char(type), char(dims.size())};
    for (std::uint32_t d : dims)
        for (int shift = 24; shift >= 0; shift -= 8) h += char((d >> shift) & 0xff);
    return h;
}

/// A .npy file with the given header dictionary and data bytes (format
/// version major.0), padded as numpy pads it.
inline std::string npy_file(const std::string& dict, const std::string& data, unsigned char major = 1) {
    const std::size_t len_bytes = major == 1 ? 2 : 4;
    std::string h = dict;
    const std::size_t pre = 8 + len_bytes;
    h.append(63 - (pre + h.size()) % 64, ' ');
    h += '\n';
    std::string out("\x93NUMPY", 6);
    out += char(major);
    out += '\0';
    for (std::size_t k = 0; k < len_bytes; ++k) out += char((h.size() >> (8 * k)) & 0xff);
    return out + h + data;
}

/// n little-endian doubles.
inline std::string f8_bytes(const std::vector<double>& v) {
    return std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(double));
}

/// The message with every occurrence of `dir` replaced by "DIR".
inline std::string normalise(std::string s, const std::string& dir) {
    if (dir.empty()) return s;
    for (std::size_t p = s.find(dir); p != std::string::npos; p = s.find(dir, p + 3)) s.replace(p, dir.size(), "DIR");
    return s;
}

/// A fresh folder under the system's temporary directory, removed (with
/// everything in it) when the object goes out of scope.
class ScratchDir {
public:
    ScratchDir() {
        std::string tmpl = (fs::temp_directory_path() / "xgrad-bad-input-XXXXXX").string();
        if (!::mkdtemp(&tmpl[0])) throw std::runtime_error("cannot create a temporary folder");
        path_ = tmpl;
    }
    ~ScratchDir() {
        std::error_code ec;
        fs::remove_all(path_, ec);
    }
    ScratchDir(const ScratchDir&) = delete;
    ScratchDir& operator=(const ScratchDir&) = delete;
    std::string path() const { return path_.string(); }

private:
    fs::path path_;
};

// ---- the fixture -------------------------------------------------------------

/// The two-layer network of the lecture on 5 examples, built, run forward
/// and backward once; its folder holds a checkpoint (ckpt/xgrad-manifest.txt,
/// ckpt/xgrad-gen-1/W1.npy …) and a data set (data/X.npy, data/Y.npy, data/X.csv).
template <class T>
struct Fixture {
    explicit Fixture(std::string folder) : dir(std::move(folder)) {
        W1 = xg::Parameter<T>(randm<T>(4, 2, 1), "W1");
        b1 = xg::Parameter<T>(randm<T>(4, 1, 2), "b1");
        W2 = xg::Parameter<T>(randm<T>(1, 4, 3), "W2");
        b2 = xg::Parameter<T>(randm<T>(1, 1, 4), "b2");
        X = g.input(randm<T>(2, 5, 5), "X");
        Y = g.input(mat<T>({{0, 1, 1, 0, 1}}), "Y");
        W1v = g.parameter(W1);
        b1v = g.parameter(b1);
        W2v = g.parameter(W2);
        b2v = g.parameter(b2);
        Z1 = (matmul(W1v, X) + b1v).named("Z1");
        A1 = tanh(Z1).named("A1");
        Z2 = (matmul(W2v, A1) + b2v).named("Z2");
        A2 = sigmoid(Z2).named("A2");
        J = binary_cross_entropy(A2, Y).named("J");
        g.backward(J);
    }

    /// The full name of a file in the folder.
    std::string path(const std::string& name) const { return dir + "/" + name; }
    std::vector<xg::Parameter<T>> params() const { return {W1, b1, W2, b2}; }

    /// The files every fixture folder starts with.
    static void write_files(const std::string& folder) {
        fs::create_directories(folder + "/data");
        Fixture f(folder);
        xg::save_parameters(folder + "/ckpt", f.params());
        xg::save_npy(folder + "/data/X.npy", f.X.value());
        xg::save_npy(folder + "/data/Y.npy", f.Y.value());
        xg::save_csv(folder + "/data/X.csv", f.X.value());
    }

    std::string dir;
    xg::Parameter<T> W1, b1, W2, b2;
    xg::Graph<T> g;
    xg::Var<T> X, Y, W1v, b1v, W2v, b2v, Z1, A1, Z2, A2, J;
};

/// What a case does: `run` makes the mistake (and must throw); `restore`,
/// when set, puts the good data back afterwards.
struct Action {
    std::function<void()> run;
    std::function<void()> restore;
};

template <class T>
struct Case {
    std::string area;  ///< "shapes", "empty", "values", "non-finite", "graph", "files"
    std::string what;  ///< the mistake, in a few words
    Expect expect;
    /// Each must appear in the message ("DIR" stands for the fixture's folder).
    std::vector<std::string> mentions;
    /// Sets the mistake up on a fresh fixture and returns it.
    std::function<Action(Fixture<T>&)> arrange;
    After after = After::kept;
    /// Non-empty for a known gap: what happens instead of the error. The
    /// runner expects such a case to fail (and says so when it stops failing).
    std::string gap;
};

/// A user-defined op of one input (y = 2x), for the arity check of apply().
template <class T>
class Twice final : public xg::Op<T> {
public:
    std::string name() const override { return "twice"; }
    xg::Shape shape(const xg::ShapeContext& c) const override {
        c.require_arity(1);
        return c.shape(0);
    }
    void forward(const xg::ForwardContext<T>& c) const override {
        for (std::size_t k = 0; k < c.in(0).size(); ++k) c.out()[k] = T(2) * c.in(0)[k];
    }
    void backward(xg::BackwardContext<T>& c) const override { c.pass_through(0, T(2)); }
    xg::sym::Expr formula() const override { return xg::sym::scale(xg::sym::num(2), xg::sym::in(0)); }
    xg::sym::Expr grad_formula(std::size_t) const override { return xg::sym::scale(xg::sym::num(2), xg::sym::grad()); }
};

/// A user-defined op whose declared output, 2^33 x 2^31, has more bytes than
/// a size_t counts.
template <class T>
class Huge final : public xg::Op<T> {
public:
    std::string name() const override { return "huge"; }
    xg::Shape shape(const xg::ShapeContext&) const override { return {std::size_t(1) << 33, std::size_t(1) << 31}; }
    void forward(const xg::ForwardContext<T>&) const override {}
    void backward(xg::BackwardContext<T>&) const override {}
    xg::sym::Expr formula() const override { return xg::sym::in(0); }
    xg::sym::Expr grad_formula(std::size_t) const override { return xg::sym::grad(); }
};

// ---- the cases ---------------------------------------------------------------------

/// The op rows: every error case of every row of the op table
/// (tests/op_table.hpp) that raises `raises`, made on new input leaves of the
/// fixture's graph. A value the op checks on every forward is tried twice:
/// at the build, and given with set_value to a node built on good values (a
/// node named L), which forward() must then refuse.
template <class T>
void put_op_cases(std::vector<Case<T>>& t, op_table::Raises raises, const std::string& area) {
    using V = xg::Var<T>;
    const Expect expect = raises == op_table::Raises::shape_error   ? Expect::shape_error
                          : raises == op_table::Raises::value_error ? Expect::value_error
                                                                    : Expect::graph_error;
    for (const op_table::Row& r : op_table::rows()) {
        for (const op_table::ErrorCase& e : r.errors) {
            if (e.raises != raises) continue;
            const op_table::Row* row = &r;
            const op_table::ErrorCase* err = &e;
            std::vector<std::string> mentions{e.call};
            mentions.insert(mentions.end(), e.mentions.begin(), e.mentions.end());
            t.push_back(Case<T>{area, r.name + ": " + e.what, expect, mentions, [row, err](Fixture<T>& f) {
                                    std::vector<V> leaves;
                                    for (const op_table::ErrorInput& x : err->inputs) {
                                        leaves.push_back(f.g.input(Matrix<T>(xt::cast<T>(x.value)), x.name));
                                    }
                                    const std::vector<V> in = row->operands(leaves);  // σ(Z) for the fused loss
                                    const op_table::Attr a = err->attr ? *err->attr : row->attr;
                                    return Action{[row, in, a] { row->forms.front()(in, a); }, {}};
                                },
                                After::kept, ""});
            if (!e.every_forward) continue;
            // The same values given on replay, to a node built on good ones.
            mentions.front() = "L = " + e.call;
            t.push_back(Case<T>{area, r.name + ": " + e.what + ", given on replay", expect, mentions,
                                [row, err](Fixture<T>& f) {
                                    std::vector<xg::Shape> shapes;
                                    for (const op_table::ErrorInput& x : err->inputs) shapes.push_back(xg::shape_of(x.value));
                                    op_table::Rng rng(17);
                                    std::vector<V> in;
                                    std::vector<Matrix<T>> good, bad;
                                    for (std::size_t i = 0; i < shapes.size(); ++i) {
                                        good.push_back(xt::cast<T>(row->domains[i].sample(shapes, i, rng)));
                                        bad.push_back(xt::cast<T>(err->inputs[i].value));
                                        in.push_back(f.g.input(good.back(), err->inputs[i].name));
                                    }
                                    row->build(in, row->attr).named("L");
                                    for (std::size_t i = 0; i < in.size(); ++i) f.g.set_value(in[i], bad[i]);
                                    return Action{[&f] { f.g.forward(); }, [&f, in, good] {
                                                      for (std::size_t i = 0; i < in.size(); ++i) f.g.set_value(in[i], good[i]);
                                                  }};
                                },
                                After::rerun, ""});
        }
    }
}

template <class T>
std::vector<Case<T>> cases() {
    using F = Fixture<T>;
    using V = xg::Var<T>;
    using P = xg::Parameter<T>;
    std::vector<Case<T>> t;
    const auto put = [&t](std::string area, std::string what, Expect e, std::vector<std::string> mentions,
                          std::function<Action(F&)> arrange, After after = After::kept, std::string gap = "") {
        t.push_back(Case<T>{std::move(area), std::move(what), e, std::move(mentions), std::move(arrange), after,
                            std::move(gap)});
    };
    const Expect shape = Expect::shape_error, value = Expect::value_error, graph = Expect::graph_error,
                 io = Expect::io_error;
    // ---- shapes: every op whose operands can disagree (the op table's cases), a user-defined op
    put_op_cases<T>(t, xgt::op_table::Raises::shape_error, "shapes");
    put("shapes", "a user-defined op given two inputs instead of one", shape,
        {"twice(X, Y): expects 1 input, got 2", "X [2x5]", "Y [1x5]"}, [](F& f) {
            return Action{[&f] { f.g.apply(std::make_shared<const Twice<T>>(), {f.X, f.Y}); }, {}};
        });

    put("shapes", "one_hot with 2^62 classes: the size overflows", shape,
        {"one_hot(labels, 4611686018427387904)", "more than any machine can address"}, [](F&) {
            return Action{[] { (void)xg::one_hot<T>(mat<T>({{0, 1}}), std::size_t(1) << 62); }, {}};
        });
    put("shapes", "a user-defined op declaring a 2^33 x 2^31 output", shape, {"huge(X)", "[8589934592x2147483648]", "more than any machine can address"}, [](F& f) {
        return Action{[&f] { f.g.apply(std::make_shared<const Huge<T>>(), {f.X}); }, {}};
    });

    // ---- recurrent cells: the state or the input of the wrong shape, an empty sequence
    put("recurrent", "RNNCell given a previous state of the wrong shape", shape,
        {"RNNCell 2 -> 3: the previous state a_bad is [3x4], but must be 3x5", "X [2x5]"}, [](F& f) {
            const V a_bad = f.g.input(Matrix<T>(xt::zeros<T>({3, 4})), "a_bad");
            return Action{[&f, a_bad] {
                              xg::Rng init(1);
                              xg::RNNCell<T>(2, 3, init)(f.X, a_bad);
                          },
                          {}};
        });
    put("recurrent", "LSTMCell given an input of the wrong height", shape,
        {"LSTMCell 3 -> 4: input X is [2x5]; the cell takes 3 rows (n_x)"}, [](F& f) {
            const V a = f.g.input(Matrix<T>(xt::zeros<T>({4, 5})), "a");
            return Action{[&f, a] {
                              xg::Rng init(1);
                              xg::LSTMCell<T>(3, 4, init)(f.X, {a, a});
                          },
                          {}};
        });
    put("recurrent", "GRUCell unrolled over a sequence of length 0", value,
        {"unroll(GRUCell 2 -> 3): a sequence of length 0"}, [](F& f) {
            const V h = f.g.input(Matrix<T>(xt::zeros<T>({3, 5})), "h");
            return Action{[h] {
                              xg::Rng init(1);
                              xg::unroll(xg::GRUCell<T>(2, 3, init), {}, h);
                          },
                          {}};
        });

    // ---- empty matrices
    put("empty", "an input with 0 rows", shape, {"input E is empty [0x5]"},
        [](F& f) { return Action{[&f] { f.g.input(Matrix<T>({0, 5}), "E"); }, {}}; });
    put("empty", "an input with 0 columns", shape, {"input E is empty [3x0]"},
        [](F& f) { return Action{[&f] { f.g.input(Matrix<T>({3, 0}), "E"); }, {}}; });
    put("empty", "a parameter with 0 columns", shape, {"parameter W0 is empty [3x0]"},
        [](F& f) { return Action{[&f] { f.g.parameter(Matrix<T>({3, 0}), "W0"); }, {}}; });
    put("empty", "an empty Parameter added to a graph", shape, {"parameter P0 is empty [0x0]"}, [](F& f) {
        const P p(Matrix<T>({0, 0}), "P0");
        return Action{[&f, p] { f.g.parameter(p); }, {}};
    });
    put("empty", "set_value with an empty matrix", shape, {"set_value: input X is empty [2x0]"},
        [](F& f) { return Action{[&f] { f.g.set_value(f.X, Matrix<T>({2, 0})); }, {}}; });
    put("empty", "an empty array from a .npy file given to a graph", shape, {"input E is empty [0x3]"}, [](F& f) {
        write_file(f.path("data/empty.npy"),
                   npy_file("{'descr': '<f8', 'fortran_order': False, 'shape': (0, 3), }", ""));
        return Action{[&f] { f.g.input(xg::load_npy<T>(f.path("data/empty.npy")), "E"); }, {}};
    });
    put("empty", "a Parameter emptied between steps, read by matmul", shape,
        {"parameter W2 is empty [1x0]"}, [](F& f) {
            const Matrix<T> old = f.W2.value();
            f.W2.value() = Matrix<T>({1, 0});
            return Action{[&f] { f.g.forward(); }, [&f, old] { f.W2.value() = old; }};
        });
    put("empty", "a Parameter emptied between steps, read by mean", shape, {"parameter P is empty [0x3]"},
        [](F& f) {
            P p(randm<T>(2, 3, 9), "P");
            mean(f.g.parameter(p));
            const Matrix<T> old = p.value();
            p.value() = Matrix<T>({0, 3});
            return Action{[&f] { f.g.forward(); }, [p, old]() mutable { p.value() = old; }};
        },
        After::kept);

    // ---- values an op cannot accept (the op table's cases, each also on replay
    // when the op checks it on every forward), and bad labels for the network's loss
    put_op_cases<T>(t, xgt::op_table::Raises::value_error, "values");
    put("values", "binary_cross_entropy: bad labels given on replay", value,
        {"J = binary_cross_entropy(A2, Y): label Y(0, 1) = 3 is outside [0, 1]"}, [](F& f) {
            const Matrix<T> old = f.Y.value();
            f.g.set_value(f.Y, mat<T>({{0, 3, 1, 0, 1}}));
            return Action{[&f] { f.g.forward(); }, [&f, old] { f.g.set_value(f.Y, old); }};
        },
        After::rerun);

    // ---- non-finite numbers in inputs and parameters: the numeric-debug mode
    put("non-finite", "NaN in an input (numeric-debug mode)", value,
        {"numeric check: input N [1x2] holds a non-finite value at (0, 0) = nan"}, [](F& f) {
            const V N = f.g.input(mat<T>({{NAN, 1}}), "N");
            f.g.check_numerics(true);
            return Action{[N] { tanh(N); }, [&f] { f.g.check_numerics(false); }};
        });
    put("non-finite", "+Inf in a parameter, found on replay (numeric-debug mode)", value,
        {"numeric check: parameter W1 [4x2] holds a non-finite value at (0, 0) = inf"}, [](F& f) {
            const Matrix<T> old = f.W1.value();
            f.W1.value()(0, 0) = std::numeric_limits<T>::infinity();
            f.g.check_numerics(true);
            return Action{[&f] { f.g.forward(); }, [&f, old] {
                              f.W1.value() = old;
                              f.g.check_numerics(false);
                          }};
        },
        After::rerun);
    put("non-finite", "overflow: exp(1000) (numeric-debug mode)", value,
        {"numeric check: exp(Q) [1x2] computed a non-finite value at (0, 1) = inf"}, [](F& f) {
            const V Q = f.g.input(mat<T>({{1, 1000}}), "Q");
            f.g.check_numerics(true);
            return Action{[Q] { exp(Q); }, [&f] { f.g.check_numerics(false); }};
        });
    put("non-finite", "an infinite gradient: sqrt at 0 (numeric-debug mode)", value,
        {"numeric check: the backward of sqrt(P) gave a non-finite gradient for P [1x2] at (0, 0) = inf"}, [](F& f) {
            const V P = f.g.parameter(mat<T>({{0, 1}}), "P");
            const V s = sum(sqrt(P)).named("s");
            f.g.check_numerics(true);
            return Action{[&f, s] { f.g.backward(s); }, [&f] { f.g.check_numerics(false); }};
        },
        After::rerun);
    put("non-finite", "NaN in an input read by relu (numeric-debug mode)", value, {"numeric check:", "N"},
        [](F& f) {
            const V N = f.g.input(mat<T>({{NAN, 1}}), "N");
            f.g.check_numerics(true);
            return Action{[N] { relu(N); }, [&f] { f.g.check_numerics(false); }};
        },
        After::kept);
    put("non-finite", "-Inf in an input read by sigmoid (numeric-debug mode)", value, {"numeric check:", "N"},
        [](F& f) {
            const V N = f.g.input(mat<T>({{-INFINITY, 1}}), "N");
            f.g.check_numerics(true);
            return Action{[N] { sigmoid(N); }, [&f] { f.g.check_numerics(false); }};
        },
        After::kept);

    // ---- misuse of the graph
    put("graph", "a node of another graph as an operand", graph,
        {"add: input 1 (O) belongs to another graph", "cannot be combined"}, [](F& f) {
            auto other = std::make_shared<xg::Graph<T>>();
            const V O = other->input(randm<T>(4, 5, 9), "O");
            return Action{[&f, other, O] { add(f.Z1, O); }, {}};
        });
    put("graph", "set_value on a node of another graph", graph, {"set_value: the node belongs to another graph"},
        [](F& f) {
            auto other = std::make_shared<xg::Graph<T>>();
            const V O = other->input(randm<T>(2, 5, 9), "O");
            return Action{[&f, other, O] { f.g.set_value(O, randm<T>(2, 5, 8)); }, {}};
        });
    put("graph", "backward on a loss of another graph", graph, {"backward: the loss node belongs to another graph"},
        [](F& f) {
            auto other = std::make_shared<xg::Graph<T>>();
            const V O = sum(other->parameter(randm<T>(2, 2, 9), "O"));
            return Action{[&f, other, O] { f.g.backward(O); }, {}};
        });
    put("graph", "backward on a non-scalar node", graph, {"backward(A1): the loss must be a 1x1 node, A1 is [4x5]"},
        [](F& f) { return Action{[&f] { f.g.backward(f.A1); }, {}}; });
    put("graph", "set_value on a parameter", graph, {"set_value(W1): only input leaves take new values"},
        [](F& f) { return Action{[&f] { f.g.set_value(f.W1v, randm<T>(4, 2, 8)); }, {}}; });
    put("graph", "set_value on an op node", graph, {"set_value(Z1): only input leaves take new values"},
        [](F& f) { return Action{[&f] { f.g.set_value(f.Z1, randm<T>(4, 5, 8)); }, {}}; });
    put("graph", "backward after an input changed shape, before forward()", graph,
        {"backward: leaf X changed shape from [2x5] to [2x7]", "call forward() first"}, [](F& f) {
            const Matrix<T> old = f.X.value();
            f.g.set_value(f.X, randm<T>(2, 7, 8));
            return Action{[&f] { f.g.backward(f.J); }, [&f, old] { f.g.set_value(f.X, old); }};
        });
    put("graph", "building after an input changed shape, before forward()", graph,
        {"tanh: an input leaf changed shape; call forward() before building new nodes"}, [](F& f) {
            const Matrix<T> old = f.X.value();
            f.g.set_value(f.X, randm<T>(2, 7, 8));
            return Action{[&f] { tanh(f.Z1); }, [&f, old] { f.g.set_value(f.X, old); }};
        });
    put("graph", "replay after an input changed shape: the graph no longer fits", shape,
        {"matmul(W1, X): inner dimensions differ: W1 [4x2], X [3x5]"}, [](F& f) {
            const Matrix<T> old = f.X.value();
            f.g.set_value(f.X, randm<T>(3, 5, 8));
            return Action{[&f] { f.g.forward(); }, [&f, old] { f.g.set_value(f.X, old); }};
        });
    put("graph", "replay after the examples changed but the labels did not", shape,
        {"binary_cross_entropy(A2, Y): labels must have the prediction's shape: A2 [1x8], Y [1x5]"},
        [](F& f) {
            const Matrix<T> old = f.X.value();
            f.g.set_value(f.X, randm<T>(2, 8, 8));
            return Action{[&f] { f.g.forward(); }, [&f, old] { f.g.set_value(f.X, old); }};
        });
    put("graph", "backward after a Parameter changed shape, before forward()", graph,
        {"backward: leaf W2 changed shape from [1x4] to [1x3]"}, [](F& f) {
            const Matrix<T> old = f.W2.value();
            f.W2.value() = randm<T>(1, 3, 8);
            return Action{[&f] { f.g.backward(f.J); }, [&f, old] { f.W2.value() = old; }};
        });
    put("graph", "backward after set_value of the same shape, before forward()", graph,
        {"backward(J): input X took a new value (set_value)", "call forward()", "accept_changed_leaves()"},
        [](F& f) {
            const Matrix<T> old = f.X.value();
            f.g.set_value(f.X, randm<T>(2, 5, 8));
            return Action{[&f] { f.g.backward(f.J); }, [&f, old] { f.g.set_value(f.X, old); }};
        });
    put("graph", "backward after an optimiser step, before forward()", graph,
        {"backward(J): parameter W1 was written", "call forward()"}, [](F& f) {
            std::vector<P> ps{f.W1, f.b1, f.W2, f.b2};
            std::vector<Matrix<T>> old;
            for (const P& p : ps) old.push_back(p.value());
            xg::GradientDescent<T> sgd(ps, 0.1);
            f.g.backward(f.J);
            sgd.step();
            return Action{[&f] { f.g.backward(f.J); }, [ps, old]() mutable {
                              for (std::size_t i = 0; i < ps.size(); ++i) ps[i].value() = old[i];
                          }};
        },
        After::rerun);
    put("graph", "building on a Parameter whose value changed shape, before forward()", graph,
        {"W2 changed shape", "call forward() before building"}, [](F& f) {
            const Matrix<T> old = f.W2.value();
            f.W2.value() = randm<T>(1, 1, 8);  // smaller: the kernel stays in bounds
            return Action{[&f] { mean(f.W2v, xg::Axis::over_cols); }, [&f, old] { f.W2.value() = old; }};
        },
        After::kept);
    put("graph", "backward after a failed forward()", graph, {"backward", "forward()"}, [](F& f) {
            const Matrix<T> old = f.Y.value();
            f.g.set_value(f.Y, mat<T>({{0, 3, 1, 0, 1}}));
            try {
                f.g.forward();  // ValueError: the label 3; the nodes before the loss now hold new values
            } catch (const xg::ValueError&) {
            }
            return Action{[&f] { f.g.backward(f.J); }, [&f, old] { f.g.set_value(f.Y, old); }};
        },
        After::kept);
    put("graph", "the gradient of a node the sweep did not reach", graph,
        {"grad(X): the last backward() did not reach X"}, [](F& f) { return Action{[&f] { f.X.grad(); }, {}}; });
    put("graph", "an empty Var", graph, {"use of an empty Var"},
        [](F&) { return Action{[] { V().value(); }, {}}; });
    put("graph", "an empty Var as an operand", graph, {"add: input 1 is an empty Var"},
        [](F& f) { return Action{[&f] { add(f.Z1, V()); }, {}}; });
    put("graph", "an empty Parameter handle", graph, {"parameter: empty Parameter handle"},
        [](F& f) { return Action{[&f] { f.g.parameter(P()); }, {}}; });
    put("graph", "a null op", graph, {"apply: null op"},
        [](F& f) { return Action{[&f] { f.g.apply(nullptr, {f.X}); }, {}}; });
    put("graph", "a node id outside the graph", graph, {"node id 999 is not in this graph"},
        [](F& f) { return Action{[&f] { f.g.var(999); }, {}}; });
    put("graph", "softmax_cross_entropy given softmax probabilities", graph,
        {"softmax_cross_entropy(A, y): A is already the output of softmax", "pass the logits"}, [](F& f) {
            const V A = softmax(f.g.input(randm<T>(3, 5, 9), "S")).named("A");
            const V y = f.g.input(mat<T>({{0, 1, 2, 0, 1}}), "y");
            return Action{[A, y] { softmax_cross_entropy(A, y); }, {}};
        });
    put("graph", "explain on a non-scalar node", graph, {"explain(A1): the loss must be a 1x1 node, A1 is [4x5]"},
        [](F& f) { return Action{[&f] { xg::explain(f.A1); }, {}}; });
    put("graph", "to_dot on a non-scalar node", graph, {"explain(Z1): the loss must be a 1x1 node, Z1 is [4x5]"},
        [](F& f) { return Action{[&f] { xg::to_dot(f.Z1); }, {}}; });
    if constexpr (std::is_same<T, double>::value) {
        put("graph", "check_gradients asked about an input that carries no gradient", graph,
            {"check_gradients: the input X carries no gradient", "g.input(value, name, true)"},
            [](F& f) { return Action{[&f] { xg::check_gradients(f.g, f.J, {f.X}); }, {}}; });
    }

    // ---- files
    const auto load_npy = [&put, io](std::string what, std::string bytes, std::vector<std::string> mentions) {
        put("files", ".npy: " + what, io, std::move(mentions), [bytes](F& f) {
            write_file(f.path("data/bad.npy"), bytes);
            return Action{[&f] { xg::load_npy<T>(f.path("data/bad.npy")); }, {}};
        });
    };
    const std::string dict25 = "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 5), }";
    const std::string data10 = f8_bytes(std::vector<double>(10, 0.5));
    put("files", ".npy: a missing file", io, {"DIR/data/nope.npy: cannot open: No such file or directory"},
        [](F& f) { return Action{[&f] { xg::load_npy<T>(f.path("data/nope.npy")); }, {}}; });
    put("files", ".npy: a folder instead of a file", io, {"DIR/data: is a directory, not a file"},
        [](F& f) { return Action{[&f] { xg::load_npy<T>(f.path("data")); }, {}}; });
    load_npy("an empty file", "", {"DIR/data/bad.npy: empty file, not a .npy file"});
    load_npy("CSV text in a .npy file", "1,2,3\n4,5,6\n", {"DIR/data/bad.npy: not a .npy file (no \\x93NUMPY magic"});
    load_npy("an unsupported format version", npy_file(dict25, data10, 9),
             {"DIR/data/bad.npy: unsupported .npy format version 9.0"});
    load_npy("a truncated header", npy_file(dict25, data10).substr(0, 40), {"DIR/data/bad.npy: truncated .npy header"});
    load_npy("truncated data", npy_file(dict25, data10.substr(0, 77)),
             {"DIR/data/bad.npy: truncated", "(2, 5) float64 values (80 bytes of data) but only 77 bytes follow"});
    load_npy("bytes after the data", npy_file(dict25, data10 + "xyz"),
             {"DIR/data/bad.npy: corrupt: 3 bytes follow the (2, 5) float64 values"});
    load_npy("a header that is not a dictionary", npy_file("['<f8', False, (2, 5)]", data10),
             {"DIR/data/bad.npy: corrupt .npy header: expected '{'"});
    load_npy("a header without 'descr'", npy_file("{'fortran_order': False, 'shape': (2, 5), }", data10),
             {"DIR/data/bad.npy: corrupt .npy header: the header has no 'descr'"});
    load_npy("a shape that is not a tuple of sizes",
             npy_file("{'descr': '<f8', 'fortran_order': False, 'shape': (2, -5), }", data10),
             {"DIR/data/bad.npy: corrupt .npy header: 'shape' is not a tuple of sizes"});
    load_npy("wrong dtype: complex", npy_file("{'descr': '<c16', 'fortran_order': False, 'shape': (5,), }", data10),
             {"DIR/data/bad.npy: unsupported dtype '<c16'", "supported: little-endian float32/64"});
    load_npy("wrong dtype: strings", npy_file("{'descr': '<U2', 'fortran_order': False, 'shape': (5,), }", data10.substr(0, 40)),
             {"DIR/data/bad.npy: unsupported dtype '<U2'"});
    load_npy("wrong dtype: float16", npy_file("{'descr': '<f2', 'fortran_order': False, 'shape': (5,), }", data10.substr(0, 10)),
             {"DIR/data/bad.npy: unsupported dtype '<f2'"});
    load_npy("wrong byte order: big-endian float64", npy_file("{'descr': '>f8', 'fortran_order': False, 'shape': (2, 5), }", data10),
             {"DIR/data/bad.npy: unsupported dtype '>f8' (big-endian"});
    load_npy("a 3-D array", npy_file("{'descr': '<f8', 'fortran_order': False, 'shape': (1, 2, 5), }", data10),
             {"DIR/data/bad.npy: holds a 3-D array (1, 2, 5); xgrad reads 0-, 1- and 2-D arrays"});
    load_npy("a bool that is neither 0 nor 1",
             npy_file("{'descr': '|b1', 'fortran_order': False, 'shape': (3,), }", std::string("\x01\x00\x07", 3)),
             {"DIR/data/bad.npy: corrupt: bool value 7 at element 2"});
    put("files", ".npy: a device instead of a file (/dev/zero would never end)", io,
        {"/dev/zero: is not a regular file (a device, FIFO or socket)"},
        [](F&) { return Action{[] { xg::load_npy<T>("/dev/zero"); }, {}}; });
    put("files", ".npy: a float64 value beyond float32's range, loaded as float", io,
        {"DIR/data/big.npy: element (1, 3) = 1e+300 is out of the range of float32"}, [](F& f) {
            Matrix<double> m = randm<double>(2, 5, 9);
            m(1, 3) = 1e300;
            xg::save_npy(f.path("data/big.npy"), m);
            return Action{[&f] { xg::load_npy<float>(f.path("data/big.npy")); }, {}};
        });
    const auto load_csv = [&put, io](std::string what, std::string text, std::vector<std::string> mentions) {
        put("files", "CSV: " + what, io, std::move(mentions), [text](F& f) {
            write_file(f.path("data/bad.csv"), text);
            return Action{[&f] { xg::load_csv<T>(f.path("data/bad.csv")); }, {}};
        });
    };
    put("files", "CSV: a missing file", io, {"DIR/data/nope.csv: cannot open: No such file or directory"},
        [](F& f) { return Action{[&f] { xg::load_csv<T>(f.path("data/nope.csv")); }, {}}; });
    load_csv("an empty file", "", {"DIR/data/bad.csv: no data"});
    load_csv("a header line", "x1,x2\n1,2\n",
             {"DIR/data/bad.csv: line 1, column 1: 'x1' is not a number (a header line? skip it with skip_rows = 1)"});
    load_csv("a cell that is not a number", "1,2\n3,abc\n", {"DIR/data/bad.csv: line 2, column 2: 'abc' is not a number"});
    load_csv("an empty cell", "1,2\n3,\n", {"DIR/data/bad.csv: line 2, column 2: empty cell"});
    load_csv("rows of different lengths", "1,2,3\n4,5\n",
             {"DIR/data/bad.csv: line 2 has 2 values, line 1 has 3 (rows of different lengths)"});
    load_csv("a number out of range", "1,2\n3,1e999\n",
             {"DIR/data/bad.csv: line 2, column 2: 1e999 is out of the range of"});
    load_csv("another delimiter (';')", "1;2\n3;4\n",
             {"DIR/data/bad.csv: line 1, column 1: '1;2' is not a number; the line has no ',' but seems to use ';'",
              "load_csv(path, ';')"});
    load_csv("values separated by spaces", "1 2\n3 4\n", {"seems to use spaces between values", "load_csv(path, ' ')"});
    load_csv("UTF-16 text", std::string("\xff\xfe" "1\0,\0" "2\0\n\0", 10),
             {"DIR/data/bad.csv: is UTF-16 text (it starts with a UTF-16 byte-order mark)"});
    const auto load_idx = [&put, io](std::string what, std::string name, std::string bytes,
                                     std::vector<std::string> mentions) {
        put("files", "IDX: " + what, io, std::move(mentions), [name, bytes](F& f) {
            write_file(f.path("data/" + name), bytes);
            return Action{[&f, name] { xg::load_idx<T>(f.path("data/" + name)); }, {}};
        });
    };
    load_idx("a truncated file", "bad.idx", idx_header(0x08, {2, 3}) + "abcd",
             {"DIR/data/bad.idx: truncated: 6 data bytes expected (2x3 unsigned byte values after the 12-byte "
              "header), 4 found"});
    load_idx("the wrong magic (a PGM image)", "bad.idx", "P5\n28 28\n255\n",
             {"DIR/data/bad.idx: not an IDX file: it starts with the bytes 0x50 0x35"});
    load_idx("more than 3 dimensions", "bad.idx", idx_header(0x08, {1, 1, 1, 1}) + "x",
             {"DIR/data/bad.idx: the IDX header gives 4 dimensions; xgrad reads IDX files of 1 to 3"});
    load_idx("a gzip stream cut short", "bad.idx.gz", std::string("\x1f\x8b\x08\0\0\0\0\0\0\x03\x63", 11),
             {"DIR/data/bad.idx.gz: truncated gzip stream"});
    // A Fashion-MNIST folder (plain files) of 3 blank images whose labels are `labels`.
    const auto fashion = [&put, io](std::string what, std::vector<std::uint32_t> labels,
                                    std::vector<std::string> mentions) {
        put("files", "Fashion-MNIST: " + what, io, std::move(mentions), [labels](F& f) {
            fs::create_directory(f.path("fm"));
            write_file(f.path("fm/train-images-idx3-ubyte"), idx_header(0x08, {3, 28, 28}) + std::string(3 * 784, '\0'));
            std::string y = idx_header(0x08, {std::uint32_t(labels.size())});
            for (std::uint32_t l : labels) y += char(l);
            write_file(f.path("fm/train-labels-idx1-ubyte"), y);
            return Action{[&f] { xg::load_fashion_mnist<T>(xg::FashionMnistSplit::train, 100, f.path("fm")); }, {}};
        });
    };
    fashion("a label of 10 or more", {1, 12, 3},
            {"DIR/fm/train-labels-idx1-ubyte: label 1 (counting from 0) is 12; Fashion-MNIST's classes are 0 ... 9"});
    fashion("more images than labels", {1, 2},
            {"DIR/fm/train-labels-idx1-ubyte: 2 labels for the 3 images of DIR/fm/train-images-idx3-ubyte"});
    put("files", "an unknown file extension (load)", io,
        {"DIR/data/X.dat: unknown file type '.dat': expected .npy, .csv or .txt"}, [](F& f) {
            write_file(f.path("data/X.dat"), "1,2\n");
            return Action{[&f] { xg::load_matrix<T>(f.path("data/X.dat")); }, {}};
        });
    put("files", "an unknown file extension (save)", io,
        {"DIR/data/out.dat: unknown file type '.dat': expected .npy, .csv or .txt"},
        [](F& f) { return Action{[&f] { xg::save_matrix<T>(f.path("data/out.dat"), f.X.value()); }, {}}; });
    put("files", "saving into a missing folder", io, {"DIR/nope/X.npy: cannot write: No such file or directory"},
        [](F& f) { return Action{[&f] { xg::save_npy<T>(f.path("nope/X.npy"), f.X.value()); }, {}}; });
    put("files", "saving over a folder", io, {"DIR/data: cannot replace"},
        [](F& f) { return Action{[&f] { xg::save_npy<T>(f.path("data"), f.X.value()); }, {}}; });
    put("files", "save_parameters: two parameters with one name", value,
        {"save_parameters: two parameters are named 'W1'"}, [](F& f) {
            return Action{[&f] { xg::save_parameters<T>(f.path("ckpt"), {f.W1, f.b1, f.W1}); }, {}};
        });
    put("files", "save_parameters: a name that is not a file name", value,
        {"save_parameters: parameter 1 has the name 'b/1'"}, [](F& f) {
            const P bad(randm<T>(4, 1, 8), "b/1");
            return Action{[&f, bad] { xg::save_parameters<T>(f.path("ckpt"), {f.W1, bad}); }, {}};
        });
    put("files", "save_parameters: a folder where the manifest goes (nothing is written)", io,
        {"DIR/ckpt/xgrad-manifest.txt: cannot replace: is a directory, not a file"}, [](F& f) {
            fs::remove(f.path("ckpt/xgrad-manifest.txt"));
            fs::create_directory(f.path("ckpt/xgrad-manifest.txt"));
            return Action{[&f] { xg::save_parameters<T>(f.path("ckpt"), f.params()); }, {}};
        });
    put("files", "save_parameters: a manifest it did not write (it is not replaced)", io,
        {"DIR/ckpt/xgrad-manifest.txt: is not an xgrad checkpoint manifest, and save_parameters does not replace a "
         "file it did not write"},
        [](F& f) {
            write_file(f.path("ckpt/xgrad-manifest.txt"), "my notes\n");
            return Action{[&f] { xg::save_parameters<T>(f.path("ckpt"), f.params()); }, {}};
        });
    put("files", "save_parameters: the folder is a file", io, {"DIR/data/X.npy: cannot create the folder"}, [](F& f) {
        return Action{[&f] { xg::save_parameters<T>(f.path("data/X.npy"), f.params()); }, {}};
    });
    put("files", "load_parameters: a file missing", io,
        {"DIR/ckpt/xgrad-gen-1/b2.npy does not match the checkpoint's manifest: the manifest lists it, but it is "
         "missing"},
        [](F& f) {
            fs::remove(f.path("ckpt/xgrad-gen-1/b2.npy"));
            return Action{[&f] { xg::load_parameters<T>(f.path("ckpt"), f.params()); }, {}};
        });
    put("files", "load_parameters: a file changed after the save (one byte)", io,
        {"DIR/ckpt/xgrad-gen-1/W2.npy does not match the checkpoint's manifest: its SHA-256 is "}, [](F& f) {
            std::string w2 = read_file(f.path("ckpt/xgrad-gen-1/W2.npy"));
            w2[w2.size() - 3] = char(w2[w2.size() - 3] ^ 0x10);
            write_file(f.path("ckpt/xgrad-gen-1/W2.npy"), w2);
            return Action{[&f] { xg::load_parameters<T>(f.path("ckpt"), f.params()); }, {}};
        });
    put("files", "load_parameters: a file of another checkpoint put in its place", io,
        {"DIR/ckpt/xgrad-gen-1/b1.npy does not match the checkpoint's manifest: its SHA-256 is ",
         "replaced by another"},
        [](F& f) {
            xg::save_parameters<T>(f.path("other"), {P(randm<T>(4, 1, 9), "b1")});
            fs::copy_file(f.path("other/xgrad-gen-1/b1.npy"), f.path("ckpt/xgrad-gen-1/b1.npy"),
                          fs::copy_options::overwrite_existing);
            return Action{[&f] { xg::load_parameters<T>(f.path("ckpt"), f.params()); }, {}};
        });
    put("files", "load_parameters: the last file truncated (no parameter is assigned)", io,
        {"DIR/ckpt/xgrad-gen-1/b2.npy does not match the checkpoint's manifest: it has ",
         "(the file is truncated)"},
        [](F& f) {
            const std::string b2 = read_file(f.path("ckpt/xgrad-gen-1/b2.npy"));
            write_file(f.path("ckpt/xgrad-gen-1/b2.npy"), b2.substr(0, b2.size() - 1));
            return Action{[&f] { xg::load_parameters<T>(f.path("ckpt"), f.params()); }, {}};
        });
    put("files", "load_parameters: a truncated manifest", io,
        {"DIR/ckpt/xgrad-manifest.txt: corrupt checkpoint manifest: line 5: the manifest is truncated"}, [](F& f) {
            const std::string m = read_file(f.path("ckpt/xgrad-manifest.txt"));
            write_file(f.path("ckpt/xgrad-manifest.txt"), m.substr(0, m.find("parameter W2") + 20));
            return Action{[&f] { xg::load_parameters<T>(f.path("ckpt"), f.params()); }, {}};
        });
    put("files", "load_parameters: a parameter the checkpoint does not hold", io,
        {"DIR/ckpt/xgrad-manifest.txt: the checkpoint has no parameter named 'W3' (it holds W1, b1, W2, b2)"},
        [](F& f) {
            const P W3(randm<T>(2, 2, 9), "W3");
            return Action{[&f, W3] { xg::load_parameters<T>(f.path("ckpt"), {f.W1, W3}); }, {}};
        });
    put("files", "load_parameters: a parameter of the wrong shape", shape,
        {"DIR/ckpt/xgrad-gen-2/W1.npy: holds a 2x4 matrix, but parameter W1 is 4x2"}, [](F& f) {
            xg::save_parameters<T>(f.path("ckpt"), {P(randm<T>(2, 4, 8), "W1"), f.b1, f.W2, f.b2});
            return Action{[&f] { xg::load_parameters<T>(f.path("ckpt"), f.params()); }, {}};
        });
    put("files", "load_parameters: a NaN in a file", value, {"DIR/ckpt/xgrad-gen-2/b1.npy: b1(2, 0) = nan is not finite"},
        [](F& f) {
            Matrix<T> b = f.b1.value();
            b(2, 0) = T(NAN);
            xg::save_parameters<T>(f.path("ckpt"), {f.W1, P(b, "b1"), f.W2, f.b2});
            return Action{[&f] { xg::load_parameters<T>(f.path("ckpt"), f.params()); }, {}};
        });
    // A folder of the old layout (DIR/NAME.npy, no manifest): each file is checked on its own.
    const auto old_layout = [](F& f) {
        fs::create_directories(f.path("old"));
        for (const P& p : f.params()) xg::save_npy<T>(f.path("old/" + p.name() + ".npy"), p.value());
    };
    put("files", "load_parameters (old layout): the last file corrupt (no parameter is assigned)", io,
        {"DIR/old/b2.npy: truncated"}, [old_layout](F& f) {
            old_layout(f);
            xg::save_npy<T>(f.path("old/W1.npy"), randm<T>(4, 2, 8));  // a good file with new values
            const std::string b2 = read_file(f.path("old/b2.npy"));
            write_file(f.path("old/b2.npy"), b2.substr(0, b2.size() - 1));
            return Action{[&f] { xg::load_parameters<T>(f.path("old"), f.params()); }, {}};
        });
    put("files", "load_parameters (old layout): a file of the wrong dtype", io,
        {"DIR/old/W2.npy: unsupported dtype '<c8'"}, [old_layout](F& f) {
            old_layout(f);
            write_file(f.path("old/W2.npy"),
                       npy_file("{'descr': '<c8', 'fortran_order': False, 'shape': (1, 4), }", std::string(32, '\0')));
            return Action{[&f] { xg::load_parameters<T>(f.path("old"), f.params()); }, {}};
        });
    put("files", "load_parameters (old layout): a missing file", io,
        {"DIR/old/b2.npy: cannot open: No such file or directory (and there is no checkpoint manifest "
         "DIR/old/xgrad-manifest.txt)"},
        [old_layout](F& f) {
            old_layout(f);
            fs::remove(f.path("old/b2.npy"));
            return Action{[&f] { xg::load_parameters<T>(f.path("old"), f.params()); }, {}};
        });
    put("files", "load_dataset: labels for another number of examples", shape,
        {"DIR/data/Y4.npy: 4 labels (1x4) for the 5 examples of DIR/data/X.npy"}, [](F& f) {
            xg::save_npy<T>(f.path("data/Y4.npy"), mat<T>({{0, 1, 1, 0}}));
            return Action{[&f] { xg::load_dataset<T>(f.path("data/X.npy"), f.path("data/Y4.npy")); }, {}};
        });
    put("files", "load_dataset: labels not a single row", shape, {"DIR/data/Y2.npy: the labels are 2x5"}, [](F& f) {
        xg::save_npy<T>(f.path("data/Y2.npy"), full<T>(2, 5, 1));
        return Action{[&f] { xg::load_dataset<T>(f.path("data/X.npy"), f.path("data/Y2.npy")); }, {}};
    });
    put("files", "load_dataset: a label outside the classes", value, {"DIR/data/Yb.npy", "Y(0, 3) = 2"}, [](F& f) {
        xg::save_npy<T>(f.path("data/Yb.npy"), mat<T>({{0, 1, 1, 2, 1}}));
        return Action{[&f] { xg::load_dataset<T>(f.path("data/X.npy"), f.path("data/Yb.npy")); }, {}};
    });
    put("files", "load_dataset: NaN in X", value, {"DIR/data/Xn.csv: X(1, 2) = nan is not finite"}, [](F& f) {
        write_file(f.path("data/Xn.csv"), "1,2,3,4,5\n1,2,nan,4,5\n");
        return Action{[&f] { xg::load_dataset<T>(f.path("data/Xn.csv"), f.path("data/Y.npy")); }, {}};
    });

    // ---- regularisation: the mistakes no op-table row can make (a mode, a Parameter)
    put("values", "batch_norm in evaluation mode before any running averages exist", value,
        {"batch_norm(Z1, gamma1, beta1): evaluation mode before any running averages exist"}, [](F& f) {
            const V gamma = f.g.parameter(full<T>(4, 1, 1), "gamma1");
            const V beta = f.g.parameter(full<T>(4, 1, 0), "beta1");
            f.g.set_mode(xg::Mode::evaluation);
            const xg::RunningStats<T> running(4);
            return Action{[&f, gamma, beta, running] { xg::batch_norm(f.Z1, gamma, beta, running); },
                          [&f] { f.g.set_mode(xg::Mode::training); }};
        });
    put("graph", "l2_penalty over a parameter not in the graph", graph,
        {"l2_penalty(X, ...): the parameter W9 [3x2] is not in the graph of X"}, [](F& f) {
            const P W9(randm<T>(3, 2, 9), "W9");
            return Action{[&f, W9] { xg::l2_penalty(f.X, std::vector<P>{f.W1, W9}, 0.1); }, {}};
        });
    return t;
}

// ---- the runner -----------------------------------------------------------------

/// Everything a case could damage: each node's shape, value and gradient,
/// each parameter's value and gradient, the numeric-debug flag.
template <class T>
struct GraphState {
    std::size_t size = 0;
    std::vector<xg::Shape> shapes;
    std::vector<std::string> values;  // raw bytes, so that NaN == NaN
    std::vector<std::string> grads;   // "-" for a node without a gradient
    std::vector<std::string> param_values;  // of g.parameters(), in order
    std::vector<std::string> param_grads;
    bool numerics = false;
};

template <class T>
std::string bytes_of(const Matrix<T>& m) {
    return std::to_string(m.shape()[0]) + "x" + std::to_string(m.shape()[1]) + ":" +
           std::string(reinterpret_cast<const char*>(m.data()), m.size() * sizeof(T));
}

template <class T>
GraphState<T> snapshot(const Fixture<T>& f) {
    GraphState<T> s;
    s.size = f.g.size();
    for (std::uint32_t id = 0; id < s.size; ++id) {
        s.shapes.push_back(f.g.shape(id));
        s.values.push_back(bytes_of(f.g.value(id)));
        s.grads.push_back(f.g.has_grad(id) ? bytes_of(f.g.grad(id)) : "-");
    }
    for (const xg::Parameter<T>& p : f.g.parameters()) {
        s.param_values.push_back(bytes_of(p.value()));
        s.param_grads.push_back(bytes_of(p.grad()));
    }
    s.numerics = f.g.checking_numerics();
    return s;
}

/// "" when equal; otherwise what differs. With `all` false, only the size,
/// the shapes and the parameters' values are compared (what an error in the
/// middle of a replay keeps). With `upto` set, only the first `upto` nodes
/// (and the parameters among them) are compared, and the size not at all.
template <class T>
std::string differences(const Fixture<T>& f, const GraphState<T>& a, const GraphState<T>& b, bool all,
                        std::size_t upto = 0) {
    if (!upto && a.size != b.size) {
        return "the graph has " + std::to_string(b.size) + " nodes, had " + std::to_string(a.size) + "; ";
    }
    const std::size_t n = std::min(a.size, b.size);
    for (std::uint32_t id = 0; id < (upto ? std::min(n, upto) : n); ++id) {
        if (a.shapes[id] != b.shapes[id]) return "the shape of " + f.g.name(id) + " changed; ";
        if (all && a.values[id] != b.values[id]) return "the value of " + f.g.name(id) + " changed; ";
        if (all && a.grads[id] != b.grads[id]) return "the gradient of " + f.g.name(id) + " changed; ";
    }
    const std::size_t np = std::min(a.param_values.size(), b.param_values.size());
    if (!upto && a.param_values.size() != b.param_values.size()) return "the number of parameters changed; ";
    for (std::size_t k = 0; k < np; ++k) {
        if (a.param_values[k] != b.param_values[k]) return "the value of a parameter changed; ";
        if (all && a.param_grads[k] != b.param_grads[k]) return "the gradient of a parameter changed; ";
    }
    if (!upto && a.numerics != b.numerics) return "the numeric-debug flag changed; ";
    return "";
}

using FileState = std::map<std::string, std::string>;

inline FileState files_in(const std::string& dir) {
    FileState s;
    for (const auto& e : fs::recursive_directory_iterator(dir)) {
        const std::string rel = fs::relative(e.path(), dir).string();
        s[rel] = e.is_directory() ? std::string("<folder>") : read_file(e.path().string());
    }
    return s;
}

inline std::string file_differences(const FileState& a, const FileState& b) {
    for (const auto& [name, bytes] : a) {
        const auto it = b.find(name);
        if (it == b.end()) return "file " + name + " disappeared; ";
        if (it->second != bytes) return "file " + name + " changed; ";
    }
    for (const auto& [name, bytes] : b) {
        if (!a.count(name)) return "file " + name + " appeared; ";
    }
    return "";
}

/// What happened when a case ran.
struct Result {
    std::string thrown;   ///< "ShapeError", …, "nothing", or "std::exception" / "unknown"
    std::string message;  ///< the exception's message, the fixture's folder written DIR
    bool right_type = false;
    std::vector<std::string> missing;  ///< mentions the message lacks
    std::string damage;                ///< "" when nothing was damaged; else what was
    bool ok() const { return right_type && missing.empty() && damage.empty(); }
};

/// Run one case in the folder `dir` (created from a copy of `files`).
template <class T>
Result run_case(const Case<T>& c, const std::string& files, const std::string& dir) {
    Result r;
    fs::copy(files, dir, fs::copy_options::recursive);
    Fixture<T> f(dir);
    const GraphState<T> start = snapshot(f);
    Action a;
    try {
        a = c.arrange(f);
    } catch (const std::exception& e) {
        r.thrown = "nothing";
        r.damage = std::string("setting the case up failed: ") + e.what();
        return r;
    }
    const GraphState<T> before = snapshot(f);
    const FileState files_before = files_in(dir);
    try {
        a.run();
        r.thrown = "nothing";
    } catch (const xg::ShapeError& e) {
        r.thrown = "ShapeError";
        r.message = e.what();
    } catch (const xg::ValueError& e) {
        r.thrown = "ValueError";
        r.message = e.what();
    } catch (const xg::GraphError& e) {
        r.thrown = "GraphError";
        r.message = e.what();
    } catch (const xg::IoError& e) {
        r.thrown = "IoError";
        r.message = e.what();
    } catch (const std::exception& e) {
        r.thrown = "std::exception";
        r.message = e.what();
    } catch (...) {
        r.thrown = "unknown";
    }
    r.message = normalise(r.message, dir);
    r.right_type = r.thrown == name_of(c.expect);
    for (const std::string& m : c.mentions) {
        if (r.message.find(m) == std::string::npos) r.missing.push_back(m);
    }
    // Nothing damaged: the state right after the error, then a replay.
    r.damage = differences(f, before, snapshot(f), c.after == After::kept);
    r.damage += file_differences(files_before, files_in(dir));
    try {
        if (a.restore) a.restore();
        f.g.forward();
        f.g.backward(f.J);
        r.damage += differences(f, start, snapshot(f), true, start.size);  // the fixture's own nodes
    } catch (const std::exception& e) {
        r.damage += std::string("forward() and backward() fail afterwards: ") + e.what();
    }
    return r;
}

/// Every case's result, in table order; each case runs in its own folder
/// under a scratch directory removed at the end.
template <class T>
std::vector<Result> run_all(const std::vector<Case<T>>& table) {
    ScratchDir root;
    const std::string files = root.path() + "/files";
    Fixture<T>::write_files(files);
    std::vector<Result> out;
    for (std::size_t k = 0; k < table.size(); ++k) {
        const std::string dir = root.path() + "/case" + std::to_string(k);
        out.push_back(run_case(table[k], files, dir));
        std::error_code ec;
        fs::remove_all(dir, ec);
    }
    return out;
}

}  // namespace xgt::bad_input
