// A character-level language model of English words: token ids → embedding →
// LSTM (or GRU) → dense → softmax cross-entropy of the next character, trained
// on /usr/share/dict/words (Debian's wamerican), one word per sequence.
//
//   char_rnn                                  train (10 minutes at most), report the
//                                             validation cross-entropy per character
//   char_rnn --sample 20 --temperature 0.8    … then sample 20 new words
//   char_rnn --save model / --load model      checkpoints
//   char_rnn --help                           every option
//
// The words without an apostrophe are split at random (seed 1) into 90%
// training and 10% validation words. A word of L characters is a sequence of
// L + 1 steps: the inputs are a begin symbol and its characters, the targets
// its characters and an end symbol, so the loss counts the end of each word.
// Words of the same length form the batches (one unrolled graph per length,
// replayed); the last batch of a length is filled up with that length's first
// words. Beside the network the program prints the honest baseline: smoothed
// character n-gram models (add-0.1) on the same split, orders 1 to 6.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include <CLI/CLI.hpp>

#include <xgrad/xgrad.hpp>

namespace {

using Real = float;
using Clock = std::chrono::steady_clock;
using Words = std::vector<std::vector<std::size_t>>;  // each word as token ids

struct Options {
    std::string words = "/usr/share/dict/words";
    std::string cell = "lstm";
    std::size_t hidden = 256, embed = 32, batch = 64, epochs = 100, subset = 0, sample = 0;
    double minutes = 10, learning_rate = 0.003, clip = 1.0, temperature = 1.0, require_fall = 0;
    std::uint32_t seed = 1;
    std::string save, load;
};

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// ---- the data -------------------------------------------------------------------

/// The code points of a UTF-8 word (an invalid byte stands for itself).
std::u32string decode(const std::string& s) {
    std::u32string out;
    for (std::size_t i = 0; i < s.size();) {
        const unsigned char c = static_cast<unsigned char>(s[i]);
        const std::size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 1;
        char32_t cp = n == 1 ? c : n == 2 ? c & 0x1F : n == 3 ? c & 0x0F : c & 0x07;
        for (std::size_t k = 1; k < n && i + k < s.size(); ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
        out += cp;
        i += n;
    }
    return out;
}

std::string encode(char32_t cp) {
    std::string s;
    if (cp < 0x80) {
        s += char(cp);
    } else if (cp < 0x800) {
        s += char(0xC0 | (cp >> 6));
        s += char(0x80 | (cp & 0x3F));
    } else {
        s += char(0xE0 | (cp >> 12));
        s += char(0x80 | ((cp >> 6) & 0x3F));
        s += char(0x80 | (cp & 0x3F));
    }
    return s;
}

/// The vocabulary: token 0 ends a word, tokens 1 … V − 1 are the characters
/// (sorted); token V, the begin symbol, is only ever an input.
struct Corpus {
    std::vector<char32_t> chars;  // chars[k − 1] is token k
    Words train, validation;
    std::size_t V() const { return chars.size() + 1; }
    std::size_t begin() const { return V(); }
};

Corpus load_corpus(const Options& o) {
    std::ifstream f(o.words);
    if (!f) {
        throw xg::IoError("char_rnn: cannot read the word list " + o.words +
                          " (Debian's package wamerican provides /usr/share/dict/words)");
    }
    std::vector<std::u32string> words;
    for (std::string line; std::getline(f, line);) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line.empty() || line.find('\'') != std::string::npos) continue;
        words.push_back(decode(line));
    }
    if (words.size() < 20) throw xg::IoError("char_rnn: " + o.words + " holds fewer than 20 words");
    Corpus c;
    for (const auto& w : words) c.chars.insert(c.chars.end(), w.begin(), w.end());
    std::sort(c.chars.begin(), c.chars.end());
    c.chars.erase(std::unique(c.chars.begin(), c.chars.end()), c.chars.end());
    std::unordered_map<char32_t, std::size_t> id;
    for (std::size_t k = 0; k < c.chars.size(); ++k) id[c.chars[k]] = k + 1;
    // 10% of the words for validation, by a permutation of seed 1 (np.random.permutation).
    xg::Rng rng(1);
    const std::vector<std::size_t> order = rng.permutation(words.size());
    const std::size_t n_val = std::size_t(std::llround(0.1 * double(words.size())));
    for (std::size_t k = 0; k < order.size(); ++k) {
        std::vector<std::size_t> w;
        for (char32_t ch : words[order[k]]) w.push_back(id[ch]);
        (k < n_val ? c.validation : c.train).push_back(std::move(w));
    }
    if (o.subset > 0 && o.subset < c.train.size()) c.train.resize(o.subset);
    if (o.subset > 0 && o.subset / 9 + 1 < c.validation.size()) c.validation.resize(o.subset / 9 + 1);
    return c;
}

std::size_t characters(const Words& ws) {
    std::size_t n = 0;
    for (const auto& w : ws) n += w.size() + 1;  // the end symbol counts
    return n;
}

// ---- the n-gram baseline ----------------------------------------------------------

/// Cross-entropy per character (nats) on the validation words of an add-α
/// smoothed n-gram model of the training words: p(c | the n − 1 tokens before
/// it, padded with begin symbols) = (count(context, c) + α) / (count(context) + α V).
double ngram_cross_entropy(const Corpus& c, std::size_t order, double alpha) {
    std::unordered_map<std::uint64_t, std::uint32_t> joint, context;
    const auto key = [&](const std::vector<std::size_t>& s, std::size_t i, std::size_t len) {
        std::uint64_t k = len;
        for (std::size_t j = i - len; j < i; ++j) k = k * 256 + s[j];
        return k;
    };
    const auto padded = [&](const std::vector<std::size_t>& w) {
        std::vector<std::size_t> s(order - 1, c.begin());
        s.insert(s.end(), w.begin(), w.end());
        s.push_back(0);
        return s;
    };
    for (const auto& w : c.train) {
        const std::vector<std::size_t> s = padded(w);
        for (std::size_t i = order - 1; i < s.size(); ++i) {
            const std::uint64_t k = key(s, i, order - 1);
            ++context[k];
            ++joint[k * 256 + s[i]];
        }
    }
    double nats = 0;
    for (const auto& w : c.validation) {
        const std::vector<std::size_t> s = padded(w);
        for (std::size_t i = order - 1; i < s.size(); ++i) {
            const std::uint64_t k = key(s, i, order - 1);
            const auto jt = joint.find(k * 256 + s[i]);
            const auto ct = context.find(k);
            const double num = (jt == joint.end() ? 0.0 : jt->second) + alpha;
            const double den = (ct == context.end() ? 0.0 : ct->second) + alpha * double(c.V());
            nats -= std::log(num / den);
        }
    }
    return nats / double(characters(c.validation));
}

// ---- the model ----------------------------------------------------------------------

/// E (d × (V + 1)), the recurrent cell, Wy (V × n) and by (V × 1).
struct Model {
    xg::Parameter<Real> E, Wy, by;
    std::unique_ptr<xg::LSTMCell<Real>> lstm;
    std::unique_ptr<xg::GRUCell<Real>> gru;
    std::size_t n = 0;

    Model(const Options& o, std::size_t V) : n(o.hidden) {
        xg::Rng rng(o.seed);
        E = xg::Parameter<Real>(xg::randn<Real>(o.embed, V + 1, rng, 0.1), "E");
        if (o.cell == "lstm") lstm = std::make_unique<xg::LSTMCell<Real>>(o.embed, n, rng);
        else gru = std::make_unique<xg::GRUCell<Real>>(o.embed, n, rng);
        Wy = xg::Parameter<Real>(xg::initial_weights<Real>(xg::init::xavier(), V, n, rng), "Wy");
        by = xg::Parameter<Real>(xt::zeros<Real>({V, std::size_t(1)}), "by");
    }
    std::vector<xg::Parameter<Real>> parameters() const {
        std::vector<xg::Parameter<Real>> p{E};
        for (const auto& q : lstm ? lstm->parameters() : gru->parameters()) p.push_back(q);
        p.push_back(Wy);
        p.push_back(by);
        return p;
    }
    std::string describe() const { return lstm ? lstm->describe() : gru->describe(); }
    /// The hidden states of the steps xs from zero states, on xs' graph.
    std::vector<xg::Var<Real>> run(xg::Graph<Real>& g, const std::vector<xg::Var<Real>>& xs, std::size_t m) const {
        if (gru) return xg::unroll(*gru, xs, xg::initial_state(g, n, m, "h<0>"));
        std::vector<xg::Var<Real>> a;
        for (const auto& s : xg::unroll(*lstm, xs, {xg::initial_state(g, n, m), xg::initial_state(g, n, m, "c<0>")}))
            a.push_back(s.a);
        return a;
    }
};

/// The unrolled graph of words of L characters, m at a time: T = L + 1 steps.
struct LengthGraph {
    xg::Graph<Real> g;
    xg::Var<Real> ids, targets, logits, J;
    xg::Matrix<Real> id_values, target_values;

    LengthGraph(const Model& model, std::size_t L, std::size_t m) {
        const std::size_t T = L + 1;
        id_values = xt::zeros<Real>({std::size_t(1), m * T});
        target_values = xt::zeros<Real>({std::size_t(1), m * T});
        ids = g.input(id_values, "ids");
        targets = g.input(target_values, "targets");
        auto X = embedding(g.parameter(model.E), ids);
        std::vector<xg::Var<Real>> xs;
        for (std::size_t t = 0; t < T; ++t) xs.push_back(columns(X, t * m, (t + 1) * m));
        const std::vector<xg::Var<Real>> h = model.run(g, xs, m);
        logits = matmul(g.parameter(model.Wy), concat_columns(h)) + g.parameter(model.by);
        J = softmax_cross_entropy(logits, targets);
    }

    /// Words w[0 … m − 1] (all of length L) as the inputs and targets, step-major.
    void set(const Corpus& c, const std::vector<const std::vector<std::size_t>*>& w) {
        const std::size_t m = w.size(), T = w[0]->size() + 1;
        for (std::size_t t = 0; t < T; ++t) {
            for (std::size_t i = 0; i < m; ++i) {
                id_values(0, t * m + i) = Real(t == 0 ? c.begin() : (*w[i])[t - 1]);
                target_values(0, t * m + i) = Real(t + 1 < T ? (*w[i])[t] : 0);
            }
        }
        g.set_value(ids, id_values);
        g.set_value(targets, target_values);
    }
};

/// One graph per word length, built when the length is first met.
class Graphs {
public:
    Graphs(const Model& model, std::size_t m) : model_(model), m_(m) {}
    LengthGraph& of(std::size_t L) {
        auto& p = graphs_[L];
        if (!p) p = std::make_unique<LengthGraph>(model_, L, m_);
        return *p;
    }

private:
    const Model& model_;
    std::size_t m_;
    std::map<std::size_t, std::unique_ptr<LengthGraph>> graphs_;
};

/// The words grouped by length, each group cut into batches of m (the last
/// one filled up with the group's first words).
std::vector<std::vector<const std::vector<std::size_t>*>> batches(const Words& ws, std::size_t m, std::mt19937_64* shuffle) {
    std::map<std::size_t, std::vector<const std::vector<std::size_t>*>> by_length;
    for (const auto& w : ws) by_length[w.size()].push_back(&w);
    std::vector<std::vector<const std::vector<std::size_t>*>> out;
    for (auto& [L, group] : by_length) {
        if (shuffle) std::shuffle(group.begin(), group.end(), *shuffle);
        for (std::size_t k = 0; k < group.size(); k += m) {
            std::vector<const std::vector<std::size_t>*> b;
            for (std::size_t i = 0; i < m; ++i) b.push_back(group[(k + i) % group.size()]);
            b.resize(m);
            out.push_back(b);
        }
    }
    if (shuffle) std::shuffle(out.begin(), out.end(), *shuffle);
    return out;
}

/// Cross-entropy per character on `ws`, each word counted once.
double evaluate(Graphs& graphs, const Corpus& c, const Words& ws, std::size_t m) {
    std::map<std::size_t, std::vector<const std::vector<std::size_t>*>> by_length;
    for (const auto& w : ws) by_length[w.size()].push_back(&w);
    double nats = 0;
    for (auto& [L, group] : by_length) {
        LengthGraph& lg = graphs.of(L);
        for (std::size_t k = 0; k < group.size(); k += m) {
            const std::size_t real = std::min(m, group.size() - k);
            std::vector<const std::vector<std::size_t>*> b;
            for (std::size_t i = 0; i < m; ++i) b.push_back(group[k + (i < real ? i : 0)]);
            lg.set(c, b);
            lg.g.forward();
            const xg::Matrix<Real>& z = lg.logits.value();
            const std::size_t V = z.shape()[0], T = L + 1;
            for (std::size_t t = 0; t < T; ++t) {
                for (std::size_t i = 0; i < real; ++i) {
                    const std::size_t j = t * m + i;
                    double mx = z(0, j), sum = 0;
                    for (std::size_t v = 1; v < V; ++v) mx = std::max(mx, double(z(v, j)));
                    for (std::size_t v = 0; v < V; ++v) sum += std::exp(double(z(v, j)) - mx);
                    nats += std::log(sum) + mx - double(z(std::size_t(lg.target_values(0, j)), j));
                }
            }
        }
    }
    return nats / double(characters(ws));
}

/// New words, one character at a time from softmax(logits / temperature).
void sample(const Model& model, const Corpus& c, std::size_t count, double temperature, std::uint32_t seed) {
    xg::Graph<Real> g;
    auto id = g.input(xt::zeros<Real>({std::size_t(1), std::size_t(1)}), "id");
    const std::size_t n = model.n;
    auto a = g.input(xt::zeros<Real>({n, std::size_t(1)}), "a");
    auto cstate = g.input(xt::zeros<Real>({n, std::size_t(1)}), "c");
    auto x = embedding(g.parameter(model.E), id);
    xg::Var<Real> a_next, c_next;
    if (model.lstm) {
        const xg::LSTMState<Real> s = (*model.lstm)(x, {a, cstate});
        a_next = s.a;
        c_next = s.c;
    } else {
        a_next = (*model.gru)(x, a);
    }
    auto logits = matmul(g.parameter(model.Wy), a_next) + g.parameter(model.by);
    std::mt19937_64 rng(seed);
    const xg::Matrix<Real> zero = xt::zeros<Real>({n, std::size_t(1)});
    for (std::size_t k = 0; k < count; ++k) {
        g.set_value(id, xg::Matrix<Real>{{Real(c.begin())}});
        g.set_value(a, zero);
        g.set_value(cstate, zero);
        std::string word;
        for (int len = 0; len < 30; ++len) {
            g.forward();
            const xg::Matrix<Real>& z = logits.value();
            std::vector<double> p(z.size());
            double mx = -1e300, sum = 0;
            for (std::size_t v = 0; v < p.size(); ++v) mx = std::max(mx, double(z(v, 0)) / temperature);
            for (std::size_t v = 0; v < p.size(); ++v) sum += p[v] = std::exp(double(z(v, 0)) / temperature - mx);
            double u = std::uniform_real_distribution<double>(0.0, sum)(rng);
            std::size_t v = 0;
            while (v + 1 < p.size() && u >= p[v]) u -= p[v++];
            if (v == 0) break;  // the end symbol
            word += encode(c.chars[v - 1]);
            g.set_value(id, xg::Matrix<Real>{{Real(v)}});
            g.set_value(a, a_next.value());
            if (model.lstm) g.set_value(cstate, c_next.value());
        }
        std::printf("%s%s", k ? " " : "", word.c_str());
    }
    std::printf("\n");
}

/// One updating line "epoch 3  batch 420/1050  loss 2.0412" on a terminal;
/// nothing when stdout is a pipe or a file.
class Progress {
public:
    Progress() : on_(::isatty(STDOUT_FILENO) == 1) {}
    void update(std::size_t epoch, std::size_t b, std::size_t n, double loss) {
        if (!on_ || seconds_since(last_) < 0.1) return;
        last_ = Clock::now();
        std::printf("\repoch %zu  batch %zu/%zu  loss %.4f\033[K", epoch, b, n, loss);
        std::fflush(stdout);
        shown_ = true;
    }
    void clear() {
        if (shown_) std::printf("\r\033[K");
        shown_ = false;
    }

private:
    bool on_;
    bool shown_ = false;
    Clock::time_point last_ = Clock::now();
};

int run(const Options& o) {
    const Corpus c = load_corpus(o);
    std::printf("data: %zu training and %zu validation words (%zu and %zu characters with the end symbols), %zu tokens\n",
                c.train.size(), c.validation.size(), characters(c.train), characters(c.validation), c.V());
    double best_ngram = 1e300;
    std::size_t best_order = 0;
    std::printf("baseline, add-0.1 character n-grams (validation nats/char):");
    for (std::size_t order = 1; order <= 6; ++order) {
        const double h = ngram_cross_entropy(c, order, 0.1);
        std::printf(" %zu: %.3f", order, h);
        if (h < best_ngram) {
            best_ngram = h;
            best_order = order;
        }
    }
    std::printf("  (best: order %zu, %.3f)\n", best_order, best_ngram);

    Model model(o, c.V());
    std::vector<xg::Parameter<Real>> params = model.parameters();
    if (!o.load.empty()) xg::load_parameters(o.load, params);
    std::size_t count = 0;
    for (const auto& p : params) count += p.value().size();
    std::printf("model: embedding %zu x %zu -> %s -> dense %zu -> softmax (%zu parameters, float32, %zu threads)\n",
                o.embed, c.V() + 1, model.describe().c_str(), c.V(), count, xg::threads());
    xg::Adam<Real> opt(params, o.learning_rate);
    std::printf("Adam(%g), batches of %zu words of one length, gradients clipped to norm %g, at most %g minutes\n",
                o.learning_rate, o.batch, o.clip, o.minutes);

    Graphs graphs(model, o.batch);
    std::mt19937_64 shuffle(o.seed);
    const Clock::time_point start = Clock::now();
    const double first = evaluate(graphs, c, c.validation, o.batch);
    std::printf("epoch  0  validation %.4f nats/char (start)\n", first);
    double best = first;
    bool out_of_time = false;
    Progress progress;
    for (std::size_t epoch = 1; epoch <= o.epochs && !out_of_time; ++epoch) {
        const Clock::time_point t0 = Clock::now();
        const auto bs = batches(c.train, o.batch, &shuffle);
        double nats = 0, chars = 0;
        for (std::size_t k = 0; k < bs.size(); ++k) {
            LengthGraph& lg = graphs.of(bs[k][0]->size());
            lg.set(c, bs[k]);
            lg.g.forward();
            lg.g.backward(lg.J);
            xg::clip_grad_norm(params, o.clip);
            opt.step();
            const double n = double(lg.id_values.size());
            nats += double(lg.J.value()(0, 0)) * n;
            chars += n;
            progress.update(epoch, k + 1, bs.size(), nats / chars);
            if (seconds_since(start) > o.minutes * 60) {
                out_of_time = true;
                break;
            }
        }
        progress.clear();
        const double v = evaluate(graphs, c, c.validation, o.batch);
        best = std::min(best, v);
        std::printf("epoch %2zu  training %.4f  validation %.4f nats/char  %.1f s%s\n", epoch, nats / chars, v,
                    seconds_since(t0), out_of_time ? " (time is up: part of an epoch)" : "");
        std::fflush(stdout);
    }
    const double minutes = seconds_since(start) / 60;
    std::printf("best validation cross-entropy %.4f nats/char after %.1f minutes (n-gram baseline %.3f)\n", best, minutes,
                best_ngram);
    if (!o.save.empty()) {
        xg::save_parameters(o.save, params);
        std::printf("saved to %s\n", o.save.c_str());
    }
    if (o.sample > 0) {
        std::printf("samples at temperature %g:\n", o.temperature);
        sample(model, c, o.sample, o.temperature, o.seed);
    }
    if (o.require_fall > 0 && !(best <= first - o.require_fall)) {
        std::printf("FAILED: the validation cross-entropy fell by less than %g\n", o.require_fall);
        return 1;
    }
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    Options o;
    CLI::App app{"Train a character-level LSTM (or GRU) language model on a word list; sample new words."};
    app.add_option("--words", o.words, "The word list, one word a line")->capture_default_str();
    app.add_option("--cell", o.cell, "lstm or gru")->check(CLI::IsMember({"lstm", "gru"}))->capture_default_str();
    app.add_option("--hidden", o.hidden, "Units of the recurrent cell")->check(CLI::Range(1, 100000))->capture_default_str();
    app.add_option("--embed", o.embed, "Numbers per character of the embedding")->check(CLI::Range(1, 100000))->capture_default_str();
    app.add_option("--batch-size", o.batch, "Words per mini-batch")->check(CLI::Range(1, 100000))->capture_default_str();
    app.add_option("--epochs", o.epochs, "Passes over the training words at most (0: evaluate only)")->capture_default_str();
    app.add_option("--minutes", o.minutes, "Stop training after this many minutes")->check(CLI::PositiveNumber)->capture_default_str();
    app.add_option("--learning-rate", o.learning_rate, "Adam's learning rate")->check(CLI::PositiveNumber)->capture_default_str();
    app.add_option("--clip", o.clip, "Clip the gradients to this global norm")->check(CLI::PositiveNumber)->capture_default_str();
    app.add_option("--seed", o.seed, "Seed of the weights, the batch order and the samples")->capture_default_str();
    app.add_option("--subset", o.subset, "Train on the first N training words only (0: all)");
    app.add_option("--sample", o.sample, "Sample N new words after training");
    app.add_option("--temperature", o.temperature, "Divide the logits by this before sampling")->check(CLI::PositiveNumber)->capture_default_str();
    app.add_option("--save", o.save, "Save the weights as a checkpoint in DIR after training")->type_name("DIR");
    app.add_option("--load", o.load, "Start from the weights saved in DIR (the same word list and sizes)")->type_name("DIR");
    app.add_option("--require-fall", o.require_fall,
                   "Exit with status 1 unless the best validation cross-entropy is at least X below the start");
    CLI11_PARSE(app, argc, argv);
    try {
        return run(o);
    } catch (const xg::Error& e) {
        std::fprintf(stderr, "char_rnn: %s\n", e.what());
        return 2;
    }
}
