package io.dmtree.mn.membership;

import org.apache.zookeeper.server.quorum.QuorumPeerConfig;
import org.apache.zookeeper.server.quorum.QuorumPeerMain;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

/**
 * One ZooKeeper server as a process of its own, for scripts and tests that want ZooKeeper outside
 * the memory nodes: {@code java -cp CLASSPATH io.dmtree.mn.membership.EnsembleServer --dir D
 * --client-port P [--id N --servers H:Q:E,H:Q:E,H:Q:E]}. Without {@code --servers} it runs a single
 * server ({@link EmbeddedZooKeeper} on {@code --dir}, kept, so a restart on the same directory
 * recovers data and sessions); with them, server {@code --id} (1-based) of that ensemble. The tick
 * is short (10 ms) for short leases; the ensemble's limits follow it: followers sync within
 * {@code initLimit} = 2 s and answer the leader within {@code syncLimit} = 0.5 s, so a dead leader
 * is noticed in about half a second. Prints one line with {@code ready} (single server) or {@code
 * starting} (ensemble member: {@link ZooKeeperEnsemble} asks it {@code srvr} until it serves), then
 * runs until SIGTERM or SIGINT. Bad options exit with code 2.
 */
@Command(name = "zookeeper", mixinStandardHelpOptions = true, description = "Run one ZooKeeper server for dmtree membership.")
public final class EnsembleServer implements Callable<Integer> {
    @Option(names = "--dir", required = true, description = "Data directory (created if missing; kept).")
    Path dir;

    @Option(names = "--client-port", required = true, description = "Port clients connect to.")
    int clientPort;

    @Option(names = "--bind", defaultValue = "127.0.0.1", description = "Address to bind (default ${DEFAULT-VALUE}).")
    String bind;

    @Option(names = "--id", defaultValue = "1", description = "This server's id in --servers, from 1 (default ${DEFAULT-VALUE}).")
    int id;

    @Option(names = "--servers", split = ",", description = "Every server of the ensemble as HOST:QUORUM_PORT:ELECTION_PORT, "
            + "in id order; none: a single server.")
    List<String> servers;

    @Option(names = "--tick", defaultValue = "10", description = "ZooKeeper tick in ms (default ${DEFAULT-VALUE}).")
    int tick;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        System.exit(new CommandLine(new EnsembleServer()).execute(args));
    }

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        if (clientPort < 1 || clientPort > 65535) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--client-port must be in [1, 65535]: " + clientPort);
        }
        if (tick < 1 || tick > 10_000) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--tick must be in [1, 10000] ms: " + tick);
        }
        System.setProperty("zookeeper.jmx.log4j.disable", "true");
        System.setProperty("zookeeper.admin.enableServer", "false");
        if (servers == null || servers.isEmpty()) {
            EmbeddedZooKeeper zk = EmbeddedZooKeeper.start(new InetSocketAddress(bind, clientPort), tick, dir, false);
            CountDownLatch stop = new CountDownLatch(1);
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                zk.close();
                stop.countDown();
            }));
            out.println("zookeeper ready standalone client=" + zk.connectString() + " pid=" + ProcessHandle.current().pid());
            out.flush();
            stop.await();
            return 0;
        }
        if (id < 1 || id > servers.size()) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--id must be in [1, " + servers.size() + "]: " + id);
        }
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("myid"), id + "\n", StandardCharsets.US_ASCII);
        Properties p = new Properties();
        p.setProperty("tickTime", String.valueOf(tick));
        p.setProperty("initLimit", String.valueOf(Math.max(5, 2000 / tick)));
        p.setProperty("syncLimit", String.valueOf(Math.max(2, 500 / tick)));
        p.setProperty("dataDir", dir.toAbsolutePath().toString());
        p.setProperty("clientPort", String.valueOf(clientPort));
        p.setProperty("clientPortAddress", bind);
        p.setProperty("minSessionTimeout", String.valueOf(2 * tick));
        p.setProperty("maxSessionTimeout", String.valueOf(EmbeddedZooKeeper.MAX_SESSION_MILLIS));
        p.setProperty("maxClientCnxns", "0");
        p.setProperty("admin.enableServer", "false");
        p.setProperty("4lw.commands.whitelist", "srvr,ruok");
        p.setProperty("standaloneEnabled", "false");
        p.setProperty("reconfigEnabled", "false");
        for (int i = 0; i < servers.size(); i++) {
            String[] hqe = servers.get(i).split(":");
            if (hqe.length != 3) {
                throw new CommandLine.ParameterException(spec.commandLine(), "--servers entry '" + servers.get(i)
                        + "' is not HOST:QUORUM_PORT:ELECTION_PORT");
            }
            p.setProperty("server." + (i + 1), servers.get(i));
        }
        QuorumPeerConfig config = new QuorumPeerConfig();
        config.parseProperties(p);
        out.println("zookeeper server " + id + " of " + servers.size() + " starting client=" + bind + ":" + clientPort
                + " pid=" + ProcessHandle.current().pid());
        out.flush();
        new QuorumPeerMain().runFromConfig(config); // returns when the peer stops
        return 0;
    }
}
