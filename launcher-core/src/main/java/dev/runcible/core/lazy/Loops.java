package dev.runcible.core.lazy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/** The loop devices of this node and their backing files, by the kernel's account in {@code /sys/block}. */
final class Loops {
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
}
