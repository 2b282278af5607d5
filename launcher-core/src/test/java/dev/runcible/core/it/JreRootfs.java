package dev.runcible.core.it;

import dev.runcible.core.host.Commands;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.TreeSet;
import java.util.stream.Stream;

/**
 * A worker's root filesystem as a cluster would ship it: this machine's JRE (links resolved) and the libraries it
 * loads, under a busybox root, plus files of random bytes that no worker here reads.
 */
public final class JreRootfs {
    public static final String JAVA = "/opt/jre/bin/java";

    private JreRootfs() {
    }

    /** Adds the JRE to {@code rootfs}, and {@code unreadBytes} of noise in 64 MiB files under /data. */
    public static void addTo(Path rootfs, long unreadBytes) throws IOException {
        Path jdk = Path.of(System.getProperty("java.home"));
        Path jre = rootfs.resolve("opt/jre");
        try (Stream<Path> files = Files.walk(jdk, java.nio.file.FileVisitOption.FOLLOW_LINKS)) {
            for (Path source : files.toList()) {
                Path target = jre.resolve(jdk.relativize(source).toString());
                if (Files.isDirectory(source)) {
                    Files.createDirectories(target);
                } else if (Files.isRegularFile(source)) { // links resolved; a dangling one (src.zip) skipped
                    Files.copy(source, target);
                }
            }
        }
        for (String library : libraries(jdk)) {
            Path target = rootfs.resolve(library.substring(1));
            Files.createDirectories(target.getParent());
            if (!Files.exists(target)) {
                Files.copy(Path.of(library), target);
            }
        }
        Files.createDirectories(rootfs.resolve("data"));
        SplittableRandom random = new SplittableRandom(7);
        byte[] block = new byte[1 << 20];
        long written = 0;
        for (int file = 0; written < unreadBytes; file++) {
            try (OutputStream out = Files.newOutputStream(rootfs.resolve("data/unread-" + file))) {
                for (int mib = 0; mib < 64 && written < unreadBytes; mib++) {
                    for (int i = 0; i < block.length; i += 8) {
                        long value = random.nextLong();
                        for (int b = 0; b < 8; b++) {
                            block[i + b] = (byte) (value >>> (8 * b));
                        }
                    }
                    out.write(block);
                    written += block.length;
                }
            }
        }
    }

    /** The shared libraries the JRE's programs and libraries load, by ldd's account. */
    private static List<String> libraries(Path jdk) throws IOException {
        List<String> objects = new ArrayList<>(List.of(jdk.resolve("bin/java").toString()));
        try (Stream<Path> files = Files.walk(jdk.resolve("lib"))) {
            files.filter(p -> p.toString().endsWith(".so")).forEach(p -> objects.add(p.toString()));
        }
        TreeSet<String> libraries = new TreeSet<>();
        for (String object : objects) {
            Commands.Result ldd = Commands.run(List.of("ldd", object), 30);
            for (String line : ldd.stdout().split("\n")) {
                String[] fields = line.strip().split("\\s+");
                for (String field : fields) {
                    Path library = Path.of(field).normalize();
                    if (field.startsWith("/") && Files.isRegularFile(library) && !library.startsWith(jdk)
                            && !library.startsWith(jdk.toRealPath())) { // the JRE's own are copied with it
                        libraries.add(library.toRealPath().toString());
                        libraries.add(library.toString());
                    }
                }
            }
        }
        return List.copyOf(libraries);
    }
}
