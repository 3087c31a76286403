// Writes what bench_pytorch.py needs to run the same problems as the C++
// benchmarks and to check that it computes the same numbers:
//
//   DIR/two_layer/<size>/<type>/{X,Y,W1,b1,W2,b2}.npy   bench::Problem's data and weights
//   DIR/mlp/<type>/{W1,b1,W2,b2,W3,b3}.npy              the MLP's initial weights
//   DIR/reference.json   xgrad's cost after 5 steps of each two-layer problem,
//                        and its losses of the MLP's first batches (in order)
//
//   build/bench/write_reference DIR [--sizes=S,M,L]
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "mlp.hpp"
#include "two_layer_step.hpp"

namespace {

template <class T>
const char* type_name() { return sizeof(T) == 8 ? "float64" : "float32"; }

template <class T>
double two_layer(const std::string& dir, const bench::Size& s) {
    const bench::Problem<T> p(s);
    const std::string d = dir + "/two_layer/" + s.name + "/" + type_name<T>();
    std::filesystem::create_directories(d);
    const std::pair<const char*, const xg::Matrix<T>*> files[] = {{"X", &p.X},   {"Y", &p.Y},   {"W1", &p.W1},
                                                                  {"b1", &p.b1}, {"W2", &p.W2}, {"b2", &p.b2}};
    for (const auto& [name, m] : files) xg::save_npy(d + "/" + name + ".npy", *m);
    auto step = bench::make_xgrad(p);
    double cost = 0;
    for (int k = 0; k < 5; ++k) cost = step->step();
    return cost;
}

template <class T>
std::vector<double> mlp(const std::string& dir) {
    const std::string d = dir + "/mlp/" + type_name<T>();
    std::filesystem::create_directories(d);
    for (const xg::Parameter<T>& p : bench::mlp::initial_model<T>().parameters())
        xg::save_npy(d + "/" + p.name() + ".npy", p.value());
    const bench::mlp::Data<T> data(bench::mlp::check_batches * bench::mlp::batch_size);
    return bench::mlp::make_xgrad(data, false)->run(bench::mlp::check_batches);
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2 || argv[1][0] == '-') {
        std::fprintf(stderr, "usage: %s DIR [--sizes=S,M,L]\n", argv[0]);
        return 2;
    }
    const std::string dir = argv[1];
    std::string sizes = "S,M,L";
    for (int i = 2; i < argc; ++i)
        if (!std::strncmp(argv[i], "--sizes=", 8)) sizes = argv[i] + 8;
    std::string json = "{\n  \"two_layer\": {";
    const char* sep = "\n";
    for (const bench::Size& s : bench::sizes) {
        if (sizes.find(s.name) == std::string::npos) continue;
        char line[200];
        std::snprintf(line, sizeof line, "%s    \"%s/float64\": %.17g,\n    \"%s/float32\": %.17g", sep, s.name,
                      two_layer<double>(dir, s), s.name, two_layer<float>(dir, s));
        json += line;
        sep = ",\n";
    }
    json += "\n  },\n  \"mlp\": {";
    sep = "\n";
    for (int t = 0; t < 2; ++t) {
        const std::vector<double> losses = t == 0 ? mlp<double>(dir) : mlp<float>(dir);
        json += std::string(sep) + "    \"" + (t == 0 ? "float64" : "float32") + "\": [";
        for (std::size_t k = 0; k < losses.size(); ++k) {
            char v[40];
            std::snprintf(v, sizeof v, "%s%.17g", k ? ", " : "", losses[k]);
            json += v;
        }
        json += "]";
        sep = ",\n";
    }
    json += "\n  }\n}\n";
    const std::string path = dir + "/reference.json";
    std::FILE* f = std::fopen(path.c_str(), "w");
    if (!f || std::fputs(json.c_str(), f) < 0 || std::fclose(f) != 0) {
        std::fprintf(stderr, "cannot write %s\n", path.c_str());
        return 1;
    }
    std::printf("wrote %s\n", path.c_str());
    return 0;
}
