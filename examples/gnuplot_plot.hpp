// Pictures of a trained two-layer network, drawn by gnuplot through a pipe:
// the decision boundary over the scattered data, and the cost curve.
// gnuplot is needed only at run time, and only when a picture is asked for.
#pragma once

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <xgrad/xgrad.hpp>

namespace plot {

/// True when an executable `gnuplot` is on the PATH.
inline bool gnuplot_available() {
    const char* path = std::getenv("PATH");
    std::string dirs = path ? path : "/usr/bin:/bin";
    std::size_t start = 0;
    while (start <= dirs.size()) {
        const std::size_t end = std::min(dirs.find(':', start), dirs.size());
        std::string dir = dirs.substr(start, end - start);
        if (dir.empty()) dir = ".";
        const std::string exe = dir + "/gnuplot";
        struct stat st;
        if (::stat(exe.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(exe.c_str(), X_OK) == 0) return true;
        start = end + 1;
    }
    return false;
}

/// The gnuplot terminal for a file name: PNG or SVG by extension, "" otherwise.
inline std::string terminal_for(const std::string& file) {
    const std::size_t dot = file.rfind('.');
    std::string ext = dot == std::string::npos ? "" : file.substr(dot + 1);
    std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return char(std::tolower(c)); });
    if (ext == "png") return "pngcairo size 1200,540 font 'sans,11'";
    if (ext == "svg") return "svg size 1200,540 font 'sans,11' background rgb 'white'";
    return "";
}

/// gnuplot string literal: single quotes, with ' doubled.
inline std::string quoted(const std::string& s) {
    std::string out = "'";
    for (char c : s) out += c == '\'' ? std::string("''") : std::string(1, c);
    return out + "'";
}

/// The plane around the examples of X (2 × m), widened by `margin` on every
/// side, and the centres of its n × n cells as 2 × n² columns (row r of
/// cells at columns r·n … r·n + n − 1): where a picture shades a model's
/// prediction.
struct Plane {
    double x0, x1, y0, y1;
    std::size_t n;
    xg::Matrix<double> grid;
};

inline Plane plane_around(const xg::Matrix<double>& X, double margin, std::size_t n) {
    double x0 = X(0, 0), x1 = X(0, 0), y0 = X(1, 0), y1 = X(1, 0);
    for (std::size_t j = 0; j < X.shape()[1]; ++j) {
        x0 = std::min(x0, X(0, j));
        x1 = std::max(x1, X(0, j));
        y0 = std::min(y0, X(1, j));
        y1 = std::max(y1, X(1, j));
    }
    x0 -= margin, x1 += margin, y0 -= margin, y1 += margin;
    xg::Matrix<double> grid({2, n * n});
    for (std::size_t r = 0; r < n; ++r) {
        for (std::size_t c = 0; c < n; ++c) {
            grid(0, r * n + c) = x0 + (x1 - x0) * (double(c) + 0.5) / double(n);
            grid(1, r * n + c) = y0 + (y1 - y0) * (double(r) + 0.5) / double(n);
        }
    }
    return Plane{x0, x1, y0, y1, n, std::move(grid)};
}

/// Draw `file` (.png or .svg): on the left, the network's prediction over the
/// plane (when the data has two features) with the examples on top, class 0
/// red and class 1 blue; on the right, the cost J against the iteration.
/// Returns "" on success, or what went wrong.
inline std::string draw(const std::string& file, const xg::Dataset<double>& data, const xg::TwoLayerParams<double>& p,
                        const std::vector<double>& costs, const std::string& title) {
    const std::string term = terminal_for(file);
    if (term.empty()) return "the picture's name must end in .png or .svg";
    if (!gnuplot_available()) return "gnuplot was not found (install gnuplot-nox to draw pictures)";
    FILE* gp = ::popen("gnuplot", "w");
    if (!gp) return "cannot start gnuplot";

    std::fprintf(gp, "set terminal %s\nset output %s\n", term.c_str(), quoted(file).c_str());
    // Two panels when the data lies in a plane; the cost curve alone otherwise.
    const bool planar = data.features() == 2;
    std::fprintf(gp, "set multiplot layout 1,%d title %s font ',13'\n", planar ? 2 : 1, quoted(title).c_str());
    if (planar) {
        // The plane, with a margin of 1 around the data, on a 240 x 240 grid.
        const xg::Matrix<double>& X = data.X;
        const Plane plane = plane_around(X, 1.0, 240);
        const double x0 = plane.x0, x1 = plane.x1, y0 = plane.y0, y1 = plane.y1;
        const std::size_t n = plane.n;
        const xg::Matrix<double>& grid = plane.grid;
        const xg::Matrix<double> pred = xg::predict(p, grid);
        std::fprintf(gp, "$grid << EOD\n");
        for (std::size_t r = 0; r < n; ++r) {
            for (std::size_t c = 0; c < n; ++c) {
                std::fprintf(gp, "%.6g %.6g %g\n", grid(0, r * n + c), grid(1, r * n + c), pred(0, r * n + c));
            }
            std::fprintf(gp, "\n");
        }
        std::fprintf(gp, "EOD\n");
        for (int cls = 0; cls < 2; ++cls) {
            std::fprintf(gp, "$class%d << EOD\n", cls);
            for (std::size_t j = 0; j < data.size(); ++j) {
                if (data.Y(0, j) == cls) std::fprintf(gp, "%.6g %.6g\n", X(0, j), X(1, j));
            }
            std::fprintf(gp, "EOD\n");
        }
        std::fprintf(gp,
                     "set title 'Decision boundary (shaded: the predicted class)'\n"
                     "set xlabel 'x_1'\nset ylabel 'x_2'\n"
                     "set xrange [%g:%g]\nset yrange [%g:%g]\nset size ratio -1\n"
                     "set palette defined (0 '#f9cfc9', 1 '#cbe0f1')\nset cbrange [0:1]\nunset colorbox\n"
                     "set key outside bottom center horizontal\n"
                     "plot $grid using 1:2:3 with image notitle, "
                     "$class0 using 1:2 with points pt 7 ps 0.55 lc rgb '#d7191c' title 'class 0', "
                     "$class1 using 1:2 with points pt 7 ps 0.55 lc rgb '#2b83ba' title 'class 1'\n",
                     x0, x1, y0, y1);
        std::fprintf(gp, "set size noratio\nset autoscale\n");
    }

    // The cost curve, with at most about 1000 points.
    const std::size_t step = std::max<std::size_t>(1, costs.size() / 1000);
    std::fprintf(gp, "$cost << EOD\n");
    for (std::size_t i = 0; i < costs.size(); i += step) std::fprintf(gp, "%zu %.9g\n", i, costs[i]);
    if ((costs.size() - 1) % step != 0) std::fprintf(gp, "%zu %.9g\n", costs.size() - 1, costs.back());
    std::fprintf(gp, "EOD\n");
    std::fprintf(gp,
                 "set title 'Cost J during training%s'\nset xlabel 'iteration'\nset ylabel 'J'\n"
                 "set grid\nunset key\nset yrange [0:*]\n"
                 "plot $cost using 1:2 with lines lw 2 lc rgb '#1a1a1a'\n"
                 "unset multiplot\nset output\n",
                 planar ? "" : " (no decision boundary: the data is not 2-D)");
    const int status = ::pclose(gp);
    if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        return "gnuplot failed (exit status " + std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : -1) + ")";
    }
    return "";
}

}  // namespace plot
