package io.dmtree.workloads.lockbench;

import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.style.Styler;

import javax.imageio.ImageIO;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.ToDoubleFunction;

/** The lock bench's PNG: throughput and MN verbs per operation against waiters per lock, one line per design. */
final class LockBenchChart {
    private LockBenchChart() {
    }

    static void write(List<LockBenchResult> results, String subtitle, Path png) throws IOException {
        XYChart throughput = chart("Throughput (ops/s) " + subtitle, "ops/s", results,
                LockBenchResult::throughputOpsPerSecond);
        XYChart verbs = chart("MN verbs per acquire+release " + subtitle, "MN verbs / op", results,
                r -> Math.max(r.mnVerbsPerOp(), 1e-3));
        BufferedImage left = BitmapEncoder.getBufferedImage(throughput);
        BufferedImage right = BitmapEncoder.getBufferedImage(verbs);
        BufferedImage both = new BufferedImage(left.getWidth() + right.getWidth(),
                Math.max(left.getHeight(), right.getHeight()), BufferedImage.TYPE_INT_RGB);
        Graphics2D g = both.createGraphics();
        g.drawImage(left, 0, 0, null);
        g.drawImage(right, left.getWidth(), 0, null);
        g.dispose();
        if (png.getParent() != null) {
            java.nio.file.Files.createDirectories(png.getParent());
        }
        ImageIO.write(both, "png", png.toFile());
    }

    private static XYChart chart(String title, String yTitle, List<LockBenchResult> results,
                                 ToDoubleFunction<LockBenchResult> y) {
        XYChart c = new XYChartBuilder().width(800).height(520).title(title)
                .xAxisTitle("waiters per lock").yAxisTitle(yTitle).build();
        c.getStyler().setLegendPosition(Styler.LegendPosition.OutsideS);
        c.getStyler().setXAxisLogarithmic(true);
        c.getStyler().setYAxisLogarithmic(true);
        Map<String, List<LockBenchResult>> byDesign = new LinkedHashMap<>();
        for (LockBenchResult r : results) {
            byDesign.computeIfAbsent(r.lock(), k -> new ArrayList<>()).add(r);
        }
        for (Map.Entry<String, List<LockBenchResult>> e : byDesign.entrySet()) {
            double[] xs = e.getValue().stream().mapToDouble(LockBenchResult::waitersPerLock).toArray();
            double[] ys = e.getValue().stream().mapToDouble(y).map(v -> Math.max(v, 1e-3)).toArray();
            c.addSeries(e.getKey(), xs, ys);
        }
        return c;
    }
}
