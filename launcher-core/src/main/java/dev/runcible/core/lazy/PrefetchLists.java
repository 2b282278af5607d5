package dev.runcible.core.lazy;

import dev.runcible.api.Digest;
import dev.runcible.core.container.RunDirectory;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * Prefetch lists: the chunks a layer's first lazy start on a node read, in order, recorded in
 * {@code RUN/lazy/HEX.reads} and published into a store as {@code layers/HEX.sqsh.prefetch}:
 * {@code runcible-prefetch 1}, {@code chunk-size N}, then one chunk index a line.
 */
public final class PrefetchLists {
    private static final String READS_MAGIC = "runcible-prefetch 1";

    private PrefetchLists() {
    }

    /** Where the first lazy start of a layer on this node records the chunks it read. */
    static Path record(Path lazyDirectory, Digest layer) {
        return lazyDirectory.resolve(layer.hex() + ".reads");
    }

    /** The layers whose first lazy start on this node was recorded, in the run directory's {@code lazy}. */
    public static List<Digest> recorded(Path directory) {
        if (!Files.isDirectory(directory)) {
            return List.of();
        }
        try (Stream<Path> entries = Files.list(directory)) {
            return entries.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".reads"))
                    .map(n -> n.substring(0, n.length() - ".reads".length())).filter(Digest::isHex)
                    .map(hex -> new Digest(Digest.SHA256, hex)).toList();
        } catch (IOException e) {
            return List.of();
        }
    }

    static void write(Path file, int chunkSize, List<Integer> order) throws IOException {
        StringBuilder text = new StringBuilder(READS_MAGIC).append("\nchunk-size ").append(chunkSize).append('\n');
        order.forEach(chunk -> text.append(chunk).append('\n'));
        RunDirectory.writeAtomically(file, text.toString().getBytes(StandardCharsets.US_ASCII));
    }

    /** The chunks of a prefetch list, for chunks of {@code chunkSize}; empty for a list made for another size. */
    static List<Integer> parse(byte[] bytes, int chunkSize) {
        String[] lines = new String(bytes, StandardCharsets.US_ASCII).split("\n");
        if (lines.length < 2 || !lines[0].equals(READS_MAGIC) || !lines[1].equals("chunk-size " + chunkSize)) {
            return List.of();
        }
        List<Integer> chunks = new ArrayList<>();
        for (int i = 2; i < lines.length; i++) {
            chunks.add(Integer.parseInt(lines[i].strip()));
        }
        return chunks;
    }

    /** The recorded reads of a layer, as a prefetch list's bytes; empty when none were recorded. */
    public static java.util.Optional<byte[]> recordedReads(Path directory, Digest layer) {
        try {
            return java.util.Optional.of(Files.readAllBytes(record(directory, layer)));
        } catch (IOException e) {
            return java.util.Optional.empty();
        }
    }
}
