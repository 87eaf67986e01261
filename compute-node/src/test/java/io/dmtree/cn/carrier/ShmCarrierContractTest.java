package io.dmtree.cn.carrier;

import io.dmtree.cn.carrier.shm.ShmCarrierClient;
import io.dmtree.core.carrier.CarrierOptions;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The {@code shm} carrier against the shared verb semantics: two region files, each mapped
 * separately by the memory node and by both clients, in segments of 64 and 128 KiB so that wide
 * reads and writes cross segment boundaries (as they do every GiB in a large region). Closing
 * leaves no file behind.
 */
class ShmCarrierContractTest extends VerbSemanticsContract {
    private static final int SEGMENT_SHIFT = 16;

    @TempDir
    Path dir;

    @Override
    protected Fixture start() {
        CarrierFixture f = CarrierFixture.joined("shm", CONFIG, dir,
                new CarrierOptions(java.util.Map.of(ShmCarrierClient.SEGMENT_SHIFT, "" + SEGMENT_SHIFT)),
                i -> new CarrierOptions(java.util.Map.of(ShmCarrierClient.SEGMENT_SHIFT, "" + (SEGMENT_SHIFT + i))));
        return new Fixture() {
            @Override
            public io.dmtree.core.memory.Verbs client(int i) {
                return f.client(i);
            }

            @Override
            public void close() throws Exception {
                f.close();
                try (Stream<Path> left = Files.list(dir)) {
                    assertEquals(0, left.count(), "the memory nodes and compute nodes delete their files");
                }
            }
        };
    }
}
