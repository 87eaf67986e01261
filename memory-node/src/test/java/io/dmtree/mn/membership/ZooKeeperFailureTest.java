package io.dmtree.mn.membership;

import io.dmtree.core.membership.BarrierParties;
import io.dmtree.core.membership.ClusterConfiguration;
import io.dmtree.core.membership.ConfigurationConflictException;
import io.dmtree.core.membership.Lease;
import io.dmtree.core.membership.LeaseLapsedException;
import io.dmtree.core.membership.Member;
import io.dmtree.core.membership.MemberKind;
import io.dmtree.core.membership.Membership;
import io.dmtree.core.membership.MembershipOptions;
import io.dmtree.core.membership.MembershipView;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static io.dmtree.mn.membership.MembershipContract.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * ZooKeeper under failure, with real processes: a member process frozen with SIGSTOP past its
 * lease; a ZooKeeper server killed with SIGKILL and restarted while members renew; a 3-server
 * ensemble that loses its leader while a load of joins, renewals, barriers and configuration
 * updates runs. Every process is started here and ended by its pid; every wait is bounded.
 */
class ZooKeeperFailureTest {
    private static Process java(String main, String... args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx64m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-cp", ZooKeeperEnsemble.ownClasspath(), main));
        cmd.addAll(List.of(args));
        return new ProcessBuilder(cmd).redirectErrorStream(true).start();
    }

    private static void signal(String sig, long pid) throws Exception {
        Process k = new ProcessBuilder("kill", "-" + sig, String.valueOf(pid)).inheritIO().start();
        assertTrue(k.waitFor(10, TimeUnit.SECONDS) && k.exitValue() == 0, "kill -" + sig + " " + pid);
    }

    private static String line(BufferedReader in, String prefix, StringBuilder log) throws Exception {
        return CompletableFuture.supplyAsync(() -> {
            try {
                String l;
                while ((l = in.readLine()) != null) {
                    log.append(l).append('\n');
                    if (l.startsWith(prefix)) {
                        return l;
                    }
                }
                throw new AssertionError("process ended without '" + prefix + "':\n" + log);
            } catch (IOException e) {
                throw new AssertionError(e);
            }
        }).get(60, TimeUnit.SECONDS);
    }

    @Test
    @Timeout(value = 90, unit = TimeUnit.SECONDS)
    void aSigstoppedMemberProcessLapsesForTheOthersOnceAndRejoinsWithANewEpochWhenResumed() throws Exception {
        try (EmbeddedZooKeeper zk = EmbeddedZooKeeper.start(new InetSocketAddress("127.0.0.1", 0), 10);
             ZooKeeperMembership watcher = ZooKeeperMembership.connect(ZooKeeperMembershipOptions.of(zk.connectString()))) {
            MembershipContract.Recorder rec = new MembershipContract.Recorder();
            Process member = java(MemberProcess.class.getName(), zk.connectString(), "250", "80");
            try (AutoCloseable sub = watcher.watch(rec)) {
                BufferedReader out = new BufferedReader(new InputStreamReader(member.getInputStream(), StandardCharsets.UTF_8));
                StringBuilder log = new StringBuilder();
                String[] joined = line(out, "JOINED ", log).split(" ");
                int id = Integer.parseInt(joined[1]);
                long epoch = Long.parseLong(joined[2]);
                await("the watcher sees the member", () -> watcher.view().members().stream()
                        .anyMatch(m -> m.epoch() == epoch));
                Member first = watcher.view().members().stream().filter(m -> m.epoch() == epoch).findFirst().orElseThrow();
                signal("STOP", member.pid());
                await("the frozen member lapses for the others", () -> rec.lapsedOnce(first));
                assertTrue(watcher.view().member(first.id()).isEmpty(), "its id is free again");
                signal("CONT", member.pid());
                String lapsed = line(out, "LAPSED ", log);
                assertEquals("LAPSED " + epoch + " LAPSED", lapsed, "the resumed member's handle learns it lapsed");
                String[] again = line(out, "JOINED ", log).split(" ");
                assertEquals(id, Integer.parseInt(again[1]), "it takes its id back");
                long epoch2 = Long.parseLong(again[2]);
                assertTrue(epoch2 > epoch, "with a new, larger epoch");
                await("the watcher sees the rejoin", () -> watcher.view().members().stream()
                        .anyMatch(m -> m.epoch() == epoch2));
                List<String> events = List.copyOf(rec.log);
                assertTrue(events.indexOf("-" + first) >= 0 && events.indexOf("-" + first) < events.indexOf("+cn " + id
                        + " epoch " + epoch2), events.toString());
                assertEquals(List.of(), rec.violations());
                assertEquals(1, (int) rec.lapses.get(first));
            } finally {
                member.destroyForcibly();
                member.waitFor(10, TimeUnit.SECONDS);
            }
        }
    }

    /** A member that keeps itself in the cluster: rejoins its id whenever its lease ends. */
    private static final class Keeper implements AutoCloseable {
        final ZooKeeperMembership m;
        final int id;
        volatile Lease lease;
        volatile boolean stop;
        final Thread thread;
        final AtomicInteger rejoins = new AtomicInteger();

        Keeper(ZooKeeperMembership m, int id) throws Exception {
            this.m = m;
            this.id = id;
            this.lease = m.join(MemberKind.COMPUTE_NODE, id, "keeper:" + id, Duration.ofSeconds(20));
            this.thread = new Thread(this::run, "keeper-" + id);
            thread.setDaemon(true);
            thread.start();
        }

        private void run() {
            while (!stop) {
                try {
                    if (lease.awaitEnd(Duration.ofMillis(100)).ended() && !stop) {
                        lease = m.join(MemberKind.COMPUTE_NODE, id, "keeper:" + id, Duration.ofSeconds(5));
                        rejoins.incrementAndGet();
                    }
                } catch (InterruptedException e) {
                    return;
                } catch (RuntimeException e) {
                    // ZooKeeper down: try again until stopped
                }
            }
        }

        @Override
        public void close() throws Exception {
            stop = true;
            thread.join(30_000);
            lease.close();
            m.close();
        }
    }

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void aZooKeeperServerKilledAndRestartedLeavesEveryMemberLiveOrRejoinedAndTheViewsConverge() throws Exception {
        try (ZooKeeperEnsemble zk = ZooKeeperEnsemble.start(1, null, 10, ZooKeeperEnsemble.ownClasspath(),
                Duration.ofSeconds(60))) {
            ZooKeeperMembershipOptions o = ZooKeeperMembershipOptions.of(zk.connectString())
                    .withMembership(MembershipOptions.DEFAULTS.withLease(Duration.ofMillis(200)));
            List<Keeper> keepers = new ArrayList<>();
            try (ZooKeeperMembership watcher = ZooKeeperMembership.connect(o)) {
                MembershipContract.Recorder rec = new MembershipContract.Recorder();
                try (AutoCloseable sub = watcher.watch(rec)) {
                    for (int i = 0; i < 4; i++) {
                        keepers.add(new Keeper(ZooKeeperMembership.connect(o), i));
                    }
                    ClusterConfiguration c1 = watcher.updateConfiguration(0, Map.of("mn.0", "tcp:127.0.0.1:7400"));
                    long before = keepers.stream().mapToLong(k -> k.lease.member().epoch()).max().orElseThrow();
                    await("every keeper is in the watcher's view", () -> watcher.view().size() == 4);
                    Thread.sleep(300); // renewals flow
                    zk.kill(0); // SIGKILL
                    Thread.sleep(600); // longer than a lease: every member is out of touch past its lease
                    zk.restart(0);
                    zk.awaitServing(Duration.ofSeconds(60));
                    await("every keeper holds a live lease and the watcher's view is exactly theirs", () -> {
                        TreeSet<Member> held = new TreeSet<>();
                        for (Keeper k : keepers) {
                            if (!k.lease.isLive()) {
                                return false;
                            }
                            held.add(k.lease.member());
                        }
                        MembershipView v = watcher.view();
                        return new TreeSet<>(v.members()).equals(held);
                    });
                    assertEquals(List.of(), rec.violations());
                    for (Keeper k : keepers) {
                        Member now = k.lease.member();
                        assertTrue(now.epoch() > before || k.rejoins.get() == 0,
                                "a rejoin after the restart has a larger epoch than any before it: " + now);
                    }
                    assertEquals(c1, watcher.configuration(), "the configuration survives the restart");
                    Lease fresh = watcher.join(MemberKind.MEMORY_NODE, 0, "", Duration.ofSeconds(10));
                    assertTrue(fresh.member().epoch() > before, "the epoch counter survives the restart");
                    System.out.println("restart: rejoins per keeper " + keepers.stream().map(k -> k.rejoins.get()).toList());
                    fresh.close();
                } finally {
                    for (Keeper k : keepers) {
                        k.close();
                    }
                }
            }
        }
    }

    @Test
    @Timeout(value = 150, unit = TimeUnit.SECONDS)
    void aThreeServerEnsembleLosingItsLeaderFinishesALoadOfJoinsRenewalsBarriersAndUpdates() throws Exception {
        long seed = MembershipContract.seed();
        int workers = 3;
        int rounds = 24;
        try (ZooKeeperEnsemble zk = ZooKeeperEnsemble.start(3, null, 10, ZooKeeperEnsemble.ownClasspath(),
                Duration.ofSeconds(90))) {
            // a lease that outlasts a leader election (about a second here), so members stay live through it
            ZooKeeperMembershipOptions o = ZooKeeperMembershipOptions.of(zk.connectString())
                    .withMembership(MembershipOptions.DEFAULTS.withLease(Duration.ofSeconds(4)));
            AtomicInteger progress = new AtomicInteger();
            ExecutorService pool = Executors.newFixedThreadPool(workers);
            List<Future<Integer>> done = new ArrayList<>();
            try {
                for (int w = 0; w < workers; w++) {
                    int me = w;
                    done.add(pool.submit(() -> work(o, me, rounds, new Random(seed + me), progress)));
                }
                await("a third of the load ran", () -> progress.get() >= workers * rounds / 3);
                int leader = zk.leader();
                assertTrue(leader >= 0, "the ensemble has a leader");
                zk.kill(leader); // SIGKILL
                int lapses = 0;
                for (Future<Integer> f : done) {
                    lapses += f.get(120, TimeUnit.SECONDS);
                }
                System.out.println("ensemble: killed server " + (leader + 1) + "; leases lost by the workers: " + lapses);
            } finally {
                pool.shutdownNow();
            }
            try (ZooKeeperMembership check = ZooKeeperMembership.connect(o)) {
                ClusterConfiguration c = check.configuration();
                for (int w = 0; w < workers; w++) {
                    assertEquals(String.valueOf(rounds), c.get("worker." + w).orElse("none"), "worker " + w + " finished");
                }
                await("every worker's lease ended", () -> check.view().size() == 0);
            }
        }
    }

    /** One worker of the ensemble load; returns how many leases it lost on the way. */
    private static int work(ZooKeeperMembershipOptions o, int me, int rounds, Random rnd, AtomicInteger progress)
            throws Exception {
        int lost = 0;
        try (ZooKeeperMembership m = ZooKeeperMembership.connect(o)) {
            Lease lease = m.join(MemberKind.COMPUTE_NODE, me, "worker:" + me, Duration.ofSeconds(30));
            for (int r = 1; r <= rounds; r++) {
                while (true) {
                    try {
                        lease.checkLive();
                        m.arrive(lease, "load/round-" + r, BarrierParties.count(MemberKind.COMPUTE_NODE, 3),
                                ("w" + me).getBytes(StandardCharsets.UTF_8), Duration.ofSeconds(60));
                        break;
                    } catch (LeaseLapsedException e) {
                        lost++;
                        lease = m.join(MemberKind.COMPUTE_NODE, me, "worker:" + me, Duration.ofSeconds(30));
                    }
                }
                // a short-lived extra member: a join and a leave
                Lease extra = m.join(MemberKind.MEMORY_NODE, Membership.ANY_ID, "", Duration.ofSeconds(30));
                extra.close();
                // an idempotent update: this worker's own key records its round
                while (true) {
                    ClusterConfiguration c = m.configuration();
                    try {
                        m.updateConfiguration(c.version(), c.with("worker." + me, String.valueOf(r)));
                        break;
                    } catch (ConfigurationConflictException e) {
                        Thread.sleep(rnd.nextInt(3));
                    }
                }
                progress.incrementAndGet();
            }
            lease.close();
        }
        return lost;
    }
}
