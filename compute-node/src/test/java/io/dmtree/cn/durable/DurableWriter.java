package io.dmtree.cn.durable;

import io.dmtree.cn.EmbeddedCluster;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A process that opens a durable embedded index and writes to it, for {@link DurableEmbeddedTest}:
 * {@code DIR MEMORY_NODES THREADS KEYS_PER_THREAD clean|forever}. Thread {@code t} puts keys
 * {@code t * 1_000_000 + i} with value {@code key * 3 + 1} in order and prints {@code ack KEY} once
 * each put returned; {@code clean} closes the index after all of them and prints {@code closed},
 * {@code forever} starts again from the first key after the last, until the process is killed.
 */
public final class DurableWriter {
    private DurableWriter() {
    }

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        int memoryNodes = Integer.parseInt(args[1]);
        int threads = Integer.parseInt(args[2]);
        int keys = Integer.parseInt(args[3]);
        boolean forever = args[4].equals("forever");
        PrintStream out = System.out;
        EmbeddedCluster cluster = DurableEmbeddedTest.builder(dir, memoryNodes).start();
        out.println("opened " + (cluster.reopened() == null ? "fresh" : cluster.reopened()));
        out.flush();
        List<Thread> workers = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            int thread = t;
            Thread w = new Thread(() -> {
                var index = cluster.index(thread % 2);
                do {
                    for (int i = 0; i < keys; i++) {
                        long key = thread * 1_000_000L + i;
                        index.put(key, key * 3 + 1);
                        synchronized (out) {
                            out.println("ack " + key);
                            out.flush();
                        }
                    }
                } while (forever);
            });
            w.start();
            workers.add(w);
        }
        for (Thread w : workers) {
            w.join();
        }
        cluster.close();
        out.println("closed");
        out.flush();
    }
}
