package dev.runcible.registry;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Base64;
import java.util.Iterator;
import java.util.Map;
import java.util.Optional;

/** Finds basic credentials for a registry: the configured pair, else the docker config.json entry for it. */
final class Credentials {
    record UserPassword(String username, String password) {
        String basicHeader() {
            return "Basic " + Base64.getEncoder().encodeToString((username + ":" + password)
                    .getBytes(StandardCharsets.UTF_8));
        }

        @Override
        public String toString() {
            return "UserPassword[" + username + ", ****]";
        }
    }

    private final RegistrySettings settings;
    private final ObjectMapper mapper;

    Credentials(RegistrySettings settings, ObjectMapper mapper) {
        this.settings = settings;
        this.mapper = mapper;
    }

    Optional<UserPassword> forRegistry(String registry) throws IOException {
        if (settings.username().isPresent() && settings.password().isPresent()) {
            return Optional.of(new UserPassword(settings.username().get(), settings.password().get()));
        }
        if (settings.authFile().isEmpty()) {
            return Optional.empty();
        }
        Path file = settings.authFile().get();
        JsonNode auths = mapper.readTree(file.toFile()).path("auths");
        for (Iterator<Map.Entry<String, JsonNode>> it = auths.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> entry = it.next();
            if (!hostOf(entry.getKey()).equals(registry) && !(registry.equals("docker.io")
                    && hostOf(entry.getKey()).equals("index.docker.io"))) {
                continue;
            }
            JsonNode value = entry.getValue();
            if (value.hasNonNull("auth")) {
                String decoded = new String(Base64.getDecoder().decode(value.get("auth").asText()),
                        StandardCharsets.UTF_8);
                int colon = decoded.indexOf(':');
                if (colon > 0) {
                    return Optional.of(new UserPassword(decoded.substring(0, colon), decoded.substring(colon + 1)));
                }
            }
            if (value.hasNonNull("username") && value.hasNonNull("password")) {
                return Optional.of(new UserPassword(value.get("username").asText(), value.get("password").asText()));
            }
        }
        return Optional.empty();
    }

    /** {@code https://host:port/v1/} and {@code host:port} both name host:port. */
    static String hostOf(String key) {
        String host = key.replaceFirst("^[a-z]+://", "");
        int slash = host.indexOf('/');
        return slash < 0 ? host : host.substring(0, slash);
    }
}
