package dev.runcible.registry;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.runcible.api.PolicyViolationException;
import dev.runcible.api.ResourceUnavailableException;
import dev.runcible.api.RuncibleException;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.apache.hc.client5.http.classic.methods.HttpGet;
import org.apache.hc.client5.http.impl.classic.CloseableHttpClient;
import org.apache.hc.core5.http.ClassicHttpResponse;

/**
 * Authorization for registry requests: the answer to a registry's 401 challenge (basic credentials, or a bearer
 * token from the realm it names), kept per registry and scope, and a token fetched again shortly before it expires.
 */
final class RegistryAuth {
    /** Tokens are refreshed this long before the registry says they expire. */
    private static final long TOKEN_MARGIN_MS = 5_000;

    private final RegistrySettings settings;
    private final Credentials credentials;
    private final ObjectMapper mapper;
    private final CloseableHttpClient http;
    private final Map<String, Authorization> authorizations = new ConcurrentHashMap<>();

    private record Authorization(String header, long expiresAtMillis) {
        boolean fresh() {
            return System.currentTimeMillis() < expiresAtMillis;
        }
    }

    RegistryAuth(RegistrySettings settings, Credentials credentials, ObjectMapper mapper, CloseableHttpClient http) {
        this.settings = settings;
        this.credentials = credentials;
        this.mapper = mapper;
        this.http = http;
    }

    /** The Authorization header for a registry and scope ({@code key}), while a fresh one is known. */
    Optional<String> header(String key) {
        Authorization authorization = authorizations.get(key);
        return authorization != null && authorization.fresh() ? Optional.of(authorization.header())
                : Optional.empty();
    }

    /** Answers the registry's challenge ({@code WWW-Authenticate}) for the key, for the next requests. */
    void answer(String key, String registry, String scope, String challenge, String action) throws RuncibleException {
        authorizations.put(key, authorize(registry, scope, challenge, action));
    }

    /** Answers a challenge: basic credentials, or a bearer token from the realm the registry names. */
    private Authorization authorize(String registry, String scope, String header, String action)
            throws RuncibleException {
        Optional<Challenge> challenge = Challenge.parse(header);
        Optional<Credentials.UserPassword> user;
        try {
            user = credentials.forRegistry(registry);
        } catch (IOException e) {
            throw new ResourceUnavailableException(action + " but failed because the docker config file "
                    + settings.authFile().orElse(null) + " cannot be read: " + e.getMessage(), e);
        }
        if (challenge.isPresent() && challenge.get().isBearer()) {
            return token(challenge.get(), scope, user, action);
        }
        if (user.isEmpty()) {
            throw new PolicyViolationException(action + " but failed because the registry wants credentials (401);"
                    + " set registry.username and registry.password, or log in with docker to write config.json");
        }
        return new Authorization(user.get().basicHeader(), Long.MAX_VALUE);
    }

    private Authorization token(Challenge challenge, String scope, Optional<Credentials.UserPassword> user,
            String action) throws RuncibleException {
        String realm = challenge.parameters().get("realm");
        if (realm == null || realm.isBlank()) {
            throw new ResourceUnavailableException(action + " but failed because the bearer challenge names no "
                    + "realm");
        }
        StringBuilder uri = new StringBuilder(realm).append(realm.contains("?") ? '&' : '?');
        if (challenge.parameters().containsKey("service")) {
            uri.append("service=").append(URLEncoder.encode(challenge.parameters().get("service"),
                    StandardCharsets.UTF_8)).append('&');
        }
        uri.append("scope=").append(URLEncoder.encode(challenge.parameters().getOrDefault("scope", scope),
                StandardCharsets.UTF_8));
        HttpGet request = new HttpGet(URI.create(uri.toString()));
        user.ifPresent(u -> request.addHeader("Authorization", u.basicHeader()));
        try (ClassicHttpResponse response = http.executeOpen(null, request, null)) {
            String body = response.getEntity() == null ? ""
                    : new String(RegistryClient.readBounded(response.getEntity().getContent(), 1 << 20, action),
                            StandardCharsets.UTF_8);
            if (response.getCode() == 401 || response.getCode() == 403) {
                throw new PolicyViolationException(action + " but failed because the token service " + realm
                        + " refused the credentials (" + response.getCode() + ")");
            }
            if (response.getCode() != 200) {
                throw new ResourceUnavailableException(action + " but failed because the token service " + realm
                        + " answered " + response.getCode());
            }
            JsonNode json = mapper.readTree(body);
            String token = json.hasNonNull("token") ? json.get("token").asText()
                    : json.path("access_token").asText("");
            if (token.isEmpty()) {
                throw new ResourceUnavailableException(action + " but failed because the token service " + realm
                        + " sent no token");
            }
            long lifetime = TimeUnit.SECONDS.toMillis(json.path("expires_in").asLong(60));
            return new Authorization("Bearer " + token,
                    System.currentTimeMillis() + Math.max(lifetime - TOKEN_MARGIN_MS, lifetime / 2));
        } catch (IOException e) {
            throw new ResourceUnavailableException(action + " but failed because the token service " + realm
                    + " could not be reached: " + RegistryClient.describe(e), e);
        }
    }
}
