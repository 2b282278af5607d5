package dev.runcible.core.lazy;

import dev.runcible.api.Digest;
import dev.runcible.api.OciResource;
import dev.runcible.api.RuncibleException;
import dev.runcible.core.config.Settings;
import java.io.IOException;
import java.io.Reader;
import java.io.Writer;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Properties;
import java.util.TreeMap;

/**
 * What a layer's server is asked to serve, as the launcher writes it to {@code RUN/lazy/HEX/request}: the layer,
 * where it is, its squashfs digest, and the launcher's settings (so the server loads the same plugins and
 * reaches the store as the launcher does). Root's alone, as the whole run directory is.
 */
record LazyRequest(OciResource layer, Map<String, String> settings) {
    private static final String SETTING = "setting.";

    void write(Path file) throws IOException {
        Properties properties = new Properties();
        properties.setProperty("layer", layer.digest().toString());
        properties.setProperty("media-type", layer.mediaType());
        properties.setProperty("location", layer.location().toString());
        properties.setProperty("file-digest", layer.contentDigest().orElseThrow().toString());
        settings.forEach((key, value) -> properties.setProperty(SETTING + key, value));
        try (Writer writer = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
            properties.store(writer, "a lazy layer's server reads this");
        }
    }

    static LazyRequest read(Path file) throws IOException, RuncibleException {
        Properties properties = new Properties();
        try (Reader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            properties.load(reader);
        }
        Map<String, String> settings = new TreeMap<>();
        for (String key : properties.stringPropertyNames()) {
            if (key.startsWith(SETTING)) {
                settings.put(key.substring(SETTING.length()), properties.getProperty(key));
            }
        }
        OciResource layer = new OciResource(Digest.parse(properties.getProperty("layer")),
                properties.getProperty("media-type"), OciResource.Kind.LAYER, OciResource.Format.SQUASHFS,
                URI.create(properties.getProperty("location")),
                Optional.of(Digest.parse(properties.getProperty("file-digest"))), OptionalLong.empty());
        return new LazyRequest(layer, settings);
    }

    Settings toSettings() {
        return Settings.of(settings, Map.of());
    }
}
