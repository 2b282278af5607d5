package dev.runcible.core.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** A cold layer from a local store on the cache's filesystem: linked when only root can write it, else copied. */
class LocalStoreLinkIT {
    private static RealNode node;

    @BeforeAll
    static void setUp() throws Exception {
        node = RealNode.create();
    }

    @AfterAll
    static void tearDown() throws Exception {
        if (node != null) {
            node.close();
        }
    }

    private static Path onlyLayer(Path dir) throws Exception {
        try (Stream<Path> files = Files.list(dir.resolve("layers"))) {
            return files.filter(p -> p.toString().endsWith(".sqsh")).findFirst().orElseThrow();
        }
    }

    private static Object inode(Path file) throws Exception {
        return Files.getAttribute(file, "unix:ino");
    }

    private static Path storeAndConfig(String name, String layerMode) throws Exception {
        Path store = node.base.resolve(name + "-store");
        RealNode.copyTree(node.store, store);
        Files.setPosixFilePermissions(onlyLayer(store), PosixFilePermissions.fromString(layerMode));
        return node.configFile(name, Map.of("local.root", store.toString(), "squashfs.cache.dir",
                node.base.resolve(name + "-cache").toString()));
    }

    @Test
    void aRootOwnedLayerNoOneElseMayWriteIsLinkedIntoTheCacheAndKeepsItsMode() throws Exception {
        Path config = storeAndConfig("linked", "rw-r--r--");
        Cli run = Cli.run(config, "run", "--rm", RealNode.IMAGE, "--", "echo", "from a linked layer");
        assertThat(run.out()).as(run.err()).isEqualTo("from a linked layer\n");
        Path stored = onlyLayer(node.base.resolve("linked-store"));
        Path cached = node.base.resolve("linked-cache/layers").resolve(stored.getFileName());
        assertThat(inode(cached)).as("one file, two names").isEqualTo(inode(stored));
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(stored))).isEqualTo("rw-r--r--");
        node.assertNothingLeftRunning();
    }

    @Test
    void aLayerOthersMayWriteIsCopiedReadOnly() throws Exception {
        Path config = storeAndConfig("copied", "rw-rw-r--");
        Cli run = Cli.run(config, "run", "--rm", RealNode.IMAGE, "--", "echo", "from a copied layer");
        assertThat(run.out()).as(run.err()).isEqualTo("from a copied layer\n");
        Path stored = onlyLayer(node.base.resolve("copied-store"));
        Path cached = node.base.resolve("copied-cache/layers").resolve(stored.getFileName());
        assertThat(inode(cached)).as("a copy of its own").isNotEqualTo(inode(stored));
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(cached))).isEqualTo("r--r--r--");
        assertThat(Files.mismatch(stored, cached)).isEqualTo(-1L);
        node.assertNothingLeftRunning();
    }
}
