package dev.runcible.core.lazy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The loop devices of this node and their backing files, by the kernel's account in {@code /sys/block}. */
final class Loops {
    private static final Logger LOG = LoggerFactory.getLogger(Loops.class);
    private Loops() {
    }

    /** The devices ({@code /dev/loopN}) whose backing file is {@code file}. */
    static List<String> backedBy(Path file) throws IOException {
        List<String> devices = new ArrayList<>();
        try (Stream<Path> blocks = Files.list(Path.of("/sys/block"))) {
            for (Path block : blocks.filter(b -> b.getFileName().toString().startsWith("loop")).toList()) {
                try {
                    String backing = Files.readString(block.resolve("loop/backing_file")).strip();
                    if (backing.equals(file.toString()) || backing.equals(file + " (deleted)")) {
                        devices.add("/dev/" + block.getFileName());
                    }
                } catch (java.nio.file.NoSuchFileException e) {
                    // an unbound device
                }
            }
        }
        return devices;
    }

    /**
     * Moves the loop devices of a server that died (its FUSE file answers nothing now) to this one's file, and
     * detaches the dead mount: containers on the layer read on.
     */
    static void adoptOrphans(Path dir, Path mine) throws IOException {
        for (Path other : LazyLayers.fuseFiles(dir).stream().filter(p -> !p.equals(mine)).toList()) {
            for (String device : Loops.backedBy(other)) {
                LOG.info("Adopting {} from a server that is gone", device);
                Fuse.changeLoopBacking(device, mine.toString());
            }
            try {
                Fuse.detach(other.toString());
            } catch (com.sun.jna.LastErrorException e) {
                // not mounted any more
            }
            Files.deleteIfExists(other);
        }
    }
}
