package io.dmtree.workloads.reproduce;

import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.style.Styler;

import javax.imageio.ImageIO;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A reproduction's PNG: panels in a grid of two columns, each a line per design against one
 * parameter (modelled clients, share of local accesses). Rendered headless (no display needed).
 */
final class ReproductionChart {
    /** One panel: a title, axis titles, log axes, and series by name of (x, y) points in order. */
    static final class Panel {
        final String title;
        final String yTitle;
        final boolean logY;
        boolean logX = true;
        final Map<String, List<double[]>> series = new LinkedHashMap<>();

        Panel(String title, String yTitle, boolean logY) {
            this.title = title;
            this.yTitle = yTitle;
            this.logY = logY;
        }

        Panel linearX() {
            logX = false;
            return this;
        }

        Panel point(String name, double x, double y) {
            series.computeIfAbsent(name, k -> new ArrayList<>()).add(new double[]{x, y});
            return this;
        }
    }

    private ReproductionChart() {
    }

    static void write(List<Panel> panels, String xTitle, Path png) throws IOException {
        System.setProperty("java.awt.headless", "true");
        List<BufferedImage> images = new ArrayList<>();
        for (Panel p : panels) {
            XYChart c = new XYChartBuilder().width(760).height(500).title(p.title).xAxisTitle(xTitle).yAxisTitle(p.yTitle)
                    .build();
            c.getStyler().setLegendPosition(Styler.LegendPosition.OutsideS);
            c.getStyler().setXAxisLogarithmic(p.logX);
            c.getStyler().setYAxisLogarithmic(p.logY);
            for (Map.Entry<String, List<double[]>> e : p.series.entrySet()) {
                double[] xs = e.getValue().stream().mapToDouble(v -> v[0]).toArray();
                double[] ys = e.getValue().stream().mapToDouble(v -> p.logY ? Math.max(v[1], 1e-3) : v[1]).toArray();
                c.addSeries(e.getKey(), xs, ys);
            }
            images.add(BitmapEncoder.getBufferedImage(c));
        }
        int w = images.get(0).getWidth();
        int h = images.get(0).getHeight();
        int cols = Math.min(2, images.size());
        int rows = (images.size() + cols - 1) / cols;
        BufferedImage all = new BufferedImage(cols * w, rows * h, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = all.createGraphics();
        g.setColor(java.awt.Color.WHITE);
        g.fillRect(0, 0, all.getWidth(), all.getHeight());
        for (int i = 0; i < images.size(); i++) {
            g.drawImage(images.get(i), (i % cols) * w, (i / cols) * h, null);
        }
        g.dispose();
        if (png.getParent() != null) {
            Files.createDirectories(png.getParent());
        }
        ImageIO.write(all, "png", png.toFile());
    }
}
