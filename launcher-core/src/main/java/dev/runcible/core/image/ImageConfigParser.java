package dev.runcible.core.image;

import com.fasterxml.jackson.databind.JsonNode;
import dev.runcible.api.Digest;
import dev.runcible.api.ImageConfig;
import dev.runcible.api.InvalidImageException;
import dev.runcible.api.Platform;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Parses an image config blob (OCI or Docker): Env, Entrypoint, Cmd, WorkingDir, User and the platform. The Env is
 * bounded: the kernel copies it onto the new process's stack, and a huge one keeps {@code runc init} busy for good.
 */
public final class ImageConfigParser {
    /** The most Env entries an image may set. */
    public static final int MAX_ENV_ENTRIES = 4096;
    /** The most bytes an image's Env may take (the kernel allows argv and envp together a quarter of the stack). */
    public static final long MAX_ENV_BYTES = 512 * 1024;

    private ImageConfigParser() {
    }

    public static ImageConfig parse(Digest digest, byte[] bytes) throws InvalidImageException {
        String what = "Image config " + digest;
        JsonNode root;
        try {
            root = Json.MAPPER.readTree(bytes);
        } catch (IOException e) {
            throw new InvalidImageException(what + " is not valid JSON: " + ManifestParser.firstLine(e.getMessage()));
        }
        if (root == null || !root.isObject()) {
            throw new InvalidImageException(what + " is not a JSON object");
        }
        JsonNode config = root.path("config");
        if (!config.isMissingNode() && !config.isNull() && !config.isObject()) {
            throw new InvalidImageException(what + " has a 'config' that is not an object");
        }
        List<String> env = strings(config, "Env", what);
        long envBytes = 0;
        for (String entry : env) {
            envBytes += entry.length() + 1;
        }
        if (env.size() > MAX_ENV_ENTRIES || envBytes > MAX_ENV_BYTES) {
            throw new InvalidImageException(what + " has " + env.size() + " Env entries of " + envBytes
                    + " bytes, above the limit of " + MAX_ENV_ENTRIES + " entries and " + MAX_ENV_BYTES
                    + " bytes; rebuild the image with a smaller environment");
        }
        for (String entry : env) {
            if (entry.indexOf('=') <= 0) {
                throw new InvalidImageException(what + " has Env entry '" + entry + "' that is not NAME=value");
            }
        }
        Optional<Platform> platform = Optional.empty();
        if (root.hasNonNull("architecture") && root.hasNonNull("os")) {
            platform = Optional.of(new Platform(root.get("os").asText(), root.get("architecture").asText(),
                    Optional.ofNullable(root.get("variant")).map(JsonNode::asText)));
        }
        return new ImageConfig(env, strings(config, "Entrypoint", what), strings(config, "Cmd", what),
                optionalText(config, "WorkingDir", what), optionalText(config, "User", what), platform);
    }

    private static List<String> strings(JsonNode config, String field, String what) throws InvalidImageException {
        JsonNode value = config.get(field);
        if (value == null || value.isNull()) {
            return List.of();
        }
        if (!value.isArray()) {
            throw new InvalidImageException(what + " has a '" + field + "' that is not an array of strings");
        }
        List<String> out = new ArrayList<>();
        for (JsonNode item : value) {
            if (!item.isTextual()) {
                throw new InvalidImageException(what + " has a non-string item in '" + field + "'");
            }
            out.add(item.textValue());
        }
        return out;
    }

    private static Optional<String> optionalText(JsonNode config, String field, String what)
            throws InvalidImageException {
        JsonNode value = config.get(field);
        if (value == null || value.isNull()) {
            return Optional.empty();
        }
        if (!value.isTextual()) {
            throw new InvalidImageException(what + " has a '" + field + "' that is not a string");
        }
        return Optional.of(value.textValue()).filter(s -> !s.isEmpty());
    }
}
