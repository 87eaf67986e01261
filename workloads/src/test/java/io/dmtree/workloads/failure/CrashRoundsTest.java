package io.dmtree.workloads.failure;

import io.dmtree.cn.history.HistoryCheck;
import io.dmtree.cn.history.HistoryFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Crash rounds over one memory node process whose region lives across the rounds: each round
 * three new compute-node processes join (incarnations of the slots the last round's processes
 * held, the killed one's included once it is recovered), insert, update and delete under a checked
 * round, and one of them, chosen at random, is SIGKILLed at a random moment; the other two finish,
 * wait for every outstanding recovery (the victim's memory reclamation included) and run the tree
 * checker: after every round the tree is sound, no byte of the region is leaked, and the round's
 * acknowledged history is linearizable. Rounds via {@code -Ddmtree.crash.rounds} (default 3); the
 * seed prints and replays with {@code -Ddmtree.seed}.
 */
class CrashRoundsTest {
    private static final long SEED = Long.getLong("dmtree.seed", System.nanoTime());
    private static final int ROUNDS = Integer.getInteger("dmtree.crash.rounds", 3);

    @TempDir
    Path dir;

    @Test
    void everyRoundEndsSoundWithNothingLeaked() throws Exception {
        System.out.println("CrashRoundsTest seed=" + SEED + " (rerun with -Ddmtree.seed=" + SEED + "), " + ROUNDS + " rounds");
        SplittableRandom random = new SplittableRandom(SEED);
        try (ClusterProcesses cluster = new ClusterProcesses()) {
            ClusterProcesses.Node mn = cluster.memoryNode("mn0", List.of("--id", "0", "--listen", "127.0.0.1:0",
                    "--zk-listen", "127.0.0.1:0", "--lease", "2s", "--memory", "96M", "--chunk", "256K",
                    "--lock-table", "256K", "--transport", "tcp", "--dir", dir.toString()));
            String address = ClusterProcesses.field(mn.awaitLine(" ready", 5), "address");
            for (int round = 0; round < ROUNDS; round++) {
                String run = "round" + round;
                List<ClusterProcesses.Node> cns = new ArrayList<>();
                List<Path> histories = new ArrayList<>();
                for (int i = 0; i < 3; i++) {
                    Path h = dir.resolve(run + "-history-" + i);
                    histories.add(h);
                    cns.add(cluster.computeNode(run + "-cn-" + i, List.of("--mn", address, "--cns", "3", "--run", run,
                            "-r", "300", "-n", "300", "-t", "2", "--lock", "modular", "--checked-ops", "400",
                            "--checked-keys", "300", "--history", h.toString(), "--check", "--timeout", "20000",
                            "--wait", "120")));
                }
                for (ClusterProcesses.Node cn : cns) {
                    cn.awaitLine("checked round started", 120);
                }
                int victim = random.nextInt(3);
                Thread.sleep(random.nextInt(400));
                cns.get(victim).kill();
                StringBuilder outputs = new StringBuilder();
                for (int i = 0; i < 3; i++) {
                    if (i == victim) {
                        continue;
                    }
                    int code = cns.get(i).awaitExit(180);
                    String out = cns.get(i).output();
                    outputs.append("--- round ").append(round).append(" survivor ").append(i).append(" (exit ").append(code)
                            .append(")\n").append(out);
                    assertEquals(0, code, "round " + round + ", seed " + SEED + ":\n" + outputs + "--- victim\n"
                            + cns.get(victim).output() + "--- memory node\n" + mn.output());
                }
                String all = outputs.toString();
                assertTrue(all.contains("tree checker: tree ok"), "round " + round + ", seed " + SEED + ":\n" + all);
                assertTrue(all.contains("), leaked 0") && !all.contains("region WRONG"),
                        "round " + round + ", seed " + SEED + ": memory leaked:\n" + all);
                List<HistoryFile> files = new ArrayList<>();
                for (Path h : histories) {
                    files.add(HistoryFile.read(h));
                }
                HistoryCheck.Result r = new HistoryCheck(files).run();
                assertTrue(r.ok(), "round " + round + ", seed " + SEED + ": " + r.violations());
                String region = all.lines().filter(l -> l.contains("tree checker: tree ok")).findFirst().orElse("");
                System.out.printf("round %d: victim %d (%s); %s%n  %s%n", round, victim,
                        files.get(victim).done() ? "finished before the kill" : "killed mid-round", r.summary(),
                        region.substring(region.indexOf("region bytes") < 0 ? 0 : region.indexOf("region bytes")));
            }
        }
    }
}
