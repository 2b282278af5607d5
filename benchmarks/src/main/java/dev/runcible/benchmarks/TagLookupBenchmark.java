package dev.runcible.benchmarks;

import dev.runcible.api.Digest;
import dev.runcible.api.ImageReference;
import dev.runcible.api.ImageTagToManifest;
import dev.runcible.store.TagFile;
import dev.runcible.core.Runcible;
import dev.runcible.core.config.Settings;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * Tag lookups (JMH): resolving a name through the local store when its tag file has not changed (goal: under
 * 1 µs), and parsing a 100,000-line tag file, which is what a reload costs (goal: under 200 ms).
 * Usage: {@code bin/benchmark jmh}
 */
@State(Scope.Benchmark)
@Fork(1)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class TagLookupBenchmark {
    private static final int LINES = 100_000;

    private Path store;
    private Runcible runcible;
    private ImageTagToManifest tags;
    private ImageReference reference;
    private String tagFile;

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        store = Files.createTempDirectory("runcible-bench-tags-");
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < LINES; i++) {
            String digest = dev.runcible.api.Digest.of(Integer.toString(i).getBytes(StandardCharsets.US_ASCII)).hex();
            text.append("team").append(i % 100).append("/app").append(i).append(":1,app").append(i)
                    .append(":latest:").append(digest).append('\n');
        }
        // The looked-up name points at a real manifest: bytes that hash to their name, as in a real store.
        byte[] manifest = "{\"schemaVersion\":2}".getBytes(StandardCharsets.UTF_8);
        String manifestHex = dev.runcible.api.Digest.of(manifest).hex();
        text.append("app77777:latest:").append(manifestHex).append('\n');
        tagFile = text.toString();
        Files.writeString(store.resolve(dev.runcible.store.StoreLayout.TAG_FILE), tagFile);
        Files.createDirectories(store.resolve("manifests"));
        Files.write(store.resolve("manifests").resolve(manifestHex), manifest);
        runcible = Runcible.open(Settings.of(Map.of("local.root", store.toString()), Map.of()),
                TagLookupBenchmark.class.getClassLoader());
        tags = runcible.tagToManifest();
        reference = ImageReference.parse("app77777:latest");
        tags.resolve(reference); // the first call parses the file
    }

    @TearDown(Level.Trial)
    public void tearDown() throws Exception {
        runcible.close();
        RegistryPullBenchmark.delete(store);
    }

    /** A name resolved to its manifest digest with the tag file unchanged: a stat and a map lookup. */
    @Benchmark
    @BenchmarkMode(Mode.AverageTime)
    @OutputTimeUnit(TimeUnit.NANOSECONDS)
    public Digest cachedTagLookup() throws Exception {
        return tags.resolve(reference).digest();
    }

    /** Parsing the whole 100,000-line file, as a reload after a change does. */
    @Benchmark
    @BenchmarkMode(Mode.AverageTime)
    @OutputTimeUnit(TimeUnit.MILLISECONDS)
    public void reloadOf100kLines(Blackhole blackhole) {
        blackhole.consume(TagFile.parse(tagFile, "bench"));
    }
}
