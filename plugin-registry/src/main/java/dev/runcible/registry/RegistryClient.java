package dev.runcible.registry;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.runcible.api.Digest;
import dev.runcible.api.ImageNotFoundException;
import dev.runcible.api.ManifestBlob;
import dev.runcible.api.MediaTypes;
import dev.runcible.api.PolicyViolationException;
import dev.runcible.api.ResourceUnavailableException;
import dev.runcible.api.RuncibleException;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Optional;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import org.apache.hc.client5.http.classic.methods.HttpGet;
import org.apache.hc.client5.http.classic.methods.HttpHead;
import org.apache.hc.client5.http.classic.methods.HttpUriRequestBase;
import org.apache.hc.client5.http.config.ConnectionConfig;
import org.apache.hc.client5.http.config.RequestConfig;
import org.apache.hc.client5.http.impl.classic.CloseableHttpClient;
import org.apache.hc.client5.http.impl.classic.HttpClients;
import org.apache.hc.client5.http.impl.io.PoolingHttpClientConnectionManager;
import org.apache.hc.client5.http.impl.io.PoolingHttpClientConnectionManagerBuilder;
import org.apache.hc.client5.http.ssl.DefaultClientTlsStrategy;
import org.apache.hc.core5.http.ClassicHttpResponse;
import org.apache.hc.core5.http.Header;
import org.apache.hc.core5.util.Timeout;

/**
 * Talks the distribution v2 API to any number of registries: manifest and blob GETs, anonymous, basic and bearer
 * authentication (tokens cached per repository until they expire, fetched again on a 401), bounded retries.
 * Every failure message starts with what was tried ("Tried to pull blob sha256:... from host/repo").
 */
final class RegistryClient implements AutoCloseable {
    static final String MANIFEST_ACCEPT = String.join(", ", MediaTypes.OCI_MANIFEST, MediaTypes.OCI_INDEX,
            MediaTypes.DOCKER_MANIFEST, MediaTypes.DOCKER_MANIFEST_LIST);
    /** Base of the retry backoff; it doubles with each try. */
    static final long RETRY_SLEEP_MS = 200;

    private final RegistrySettings settings;
    private final ObjectMapper mapper;
    private final CloseableHttpClient http;
    private final RegistryAuth auth;

    /** An open response whose body the caller reads and closes. */
    record Response(ClassicHttpResponse response, InputStream body) implements AutoCloseable {
        int status() {
            return response.getCode();
        }

        Optional<String> header(String name) {
            Header header = response.getFirstHeader(name);
            return header == null ? Optional.empty() : Optional.of(header.getValue());
        }

        @Override
        public void close() throws IOException {
            response.close();
        }
    }

    RegistryClient(RegistrySettings settings, SSLContext ssl, ObjectMapper mapper) {
        this(settings, new DefaultClientTlsStrategy(ssl), mapper);
    }

    RegistryClient(RegistrySettings settings, org.apache.hc.client5.http.ssl.TlsSocketStrategy tls,
            ObjectMapper mapper) {
        this.settings = settings;
        this.mapper = mapper;
        PoolingHttpClientConnectionManager connections = PoolingHttpClientConnectionManagerBuilder.create()
                .setTlsSocketStrategy(tls)
                .setDefaultConnectionConfig(ConnectionConfig.custom()
                        .setConnectTimeout(Timeout.ofSeconds(settings.connectTimeoutSeconds()))
                        .setSocketTimeout(Timeout.ofSeconds(settings.readTimeoutSeconds())).build())
                .setMaxConnTotal(64).setMaxConnPerRoute(32).build();
        this.http = HttpClients.custom().setConnectionManager(connections).disableAutomaticRetries()
                .disableCookieManagement()
                .setDefaultRequestConfig(RequestConfig.custom()
                        .setResponseTimeout(Timeout.ofSeconds(settings.readTimeoutSeconds())).build())
                .build();
        this.auth = new RegistryAuth(settings, new Credentials(settings, mapper), mapper, http);
    }

    /** The API root of a registry: plain HTTP only for hosts listed as insecure. */
    URI base(String registry) {
        String host = registry.equals("docker.io") ? "registry-1.docker.io" : registry;
        return URI.create((settings.insecure().contains(registry) ? "http://" : "https://") + host + "/v2/");
    }

    record Manifest(byte[] bytes, Optional<String> mediaType, Optional<String> digestHeader) {
    }

    Manifest manifest(String registry, String repository, String reference) throws RuncibleException {
        String action = "Tried to pull manifest " + registry + "/" + repository
                + (reference.startsWith("sha256:") ? "@" : ":") + reference;
        URI uri = base(registry).resolve(repository + "/manifests/" + reference);
        try (Response response = send(registry, repository, uri, Map.of("Accept", MANIFEST_ACCEPT), action)) {
            if (response.status() == 404) {
                throw new ImageNotFoundException(action + " but failed because the registry has no such manifest"
                        + " (404); check the repository and tag");
            }
            expectOk(response, action);
            byte[] bytes = readBounded(response.body(), ManifestBlob.MAX_BYTES, action);
            return new Manifest(bytes, response.header("Content-Type"), response.header("Docker-Content-Digest"));
        } catch (IOException e) {
            throw new ResourceUnavailableException(action + " but failed because: " + e.getMessage(), e);
        }
    }

    /** Opens a blob from {@code offset}; the response is 206 when the registry honoured the range, else 200. */
    Response blob(String registry, String repository, Digest digest, long offset) throws RuncibleException {
        String action = "Tried to pull blob " + digest + " from " + registry + "/" + repository;
        URI uri = base(registry).resolve(repository + "/blobs/" + digest);
        Map<String, String> headers = offset > 0 ? Map.of("Range", "bytes=" + offset + "-") : Map.of();
        Response response = send(registry, repository, uri, headers, action);
        try {
            if (response.status() == 404) {
                throw new ResourceUnavailableException(action + " but failed because the registry has no such blob"
                        + " (404)");
            }
            if (response.status() != 200 && response.status() != 206) {
                expectOk(response, action);
            }
            return response;
        } catch (RuncibleException e) {
            closeQuietly(response);
            throw e;
        }
    }

    /**
     * Asks the image's own repository whether it serves a blob, without reading it (HEAD). A blob the node holds
     * for another image is used only when this answers yes: a digest alone grants no access to its content.
     */
    void checkBlob(String registry, String repository, Digest digest) throws RuncibleException {
        String action = "Tried to check that " + registry + "/" + repository + " serves blob " + digest;
        URI uri = base(registry).resolve(repository + "/blobs/" + digest);
        try (Response response = send(registry, repository, uri, Map.of(), action, true)) {
            if (response.status() == 404) {
                throw new PolicyViolationException(action + " but it does not (404): the node's copy came from "
                        + "another image and is not used for this one");
            }
            if (response.status() != 200) {
                throw new ResourceUnavailableException(action + " but failed because the registry answered "
                        + response.status());
            }
        } catch (IOException e) {
            throw new ResourceUnavailableException(action + " but failed because: " + e.getMessage(), e);
        }
    }

    private void expectOk(Response response, String action) throws RuncibleException {
        if (response.status() == 200) {
            return;
        }
        String body = "";
        try {
            body = new String(readBounded(response.body(), 4096, action), StandardCharsets.UTF_8).strip();
        } catch (IOException | RuncibleException e) {
            // the status says enough
        }
        throw new ResourceUnavailableException(action + " but failed because the registry answered "
                + response.status() + (body.isEmpty() ? "" : ": " + body.replace('\n', ' ')));
    }

    private Response send(String registry, String repository, URI uri, Map<String, String> headers, String action)
            throws RuncibleException {
        return send(registry, repository, uri, headers, action, false);
    }

    private Response send(String registry, String repository, URI uri, Map<String, String> headers, String action,
            boolean head) throws RuncibleException {
        String scope = "repository:" + repository + ":pull";
        String key = registry + " " + scope;
        boolean challenged = false;
        for (int attempt = 1; ; attempt++) {
            HttpUriRequestBase request = head ? new HttpHead(uri) : new HttpGet(uri);
            headers.forEach(request::addHeader);
            auth.header(key).ifPresent(value -> request.addHeader("Authorization", value));
            ClassicHttpResponse response;
            try {
                response = http.executeOpen(null, request, null);
            } catch (SSLException e) {
                throw new ResourceUnavailableException(action + " but failed because TLS failed: " + e.getMessage()
                        + "; trust the registry's CA with registry.ca-file, or list " + registry
                        + " in registry.insecure-registries if it speaks plain HTTP", e);
            } catch (IOException e) {
                if (attempt < settings.maxTries()) {
                    sleep(attempt);
                    continue;
                }
                throw new ResourceUnavailableException(action + " but failed because: " + describe(e) + " (after "
                        + attempt + " tries)", e);
            }
            int status = response.getCode();
            if (status == 401 && !challenged) {
                Header header = response.getFirstHeader("WWW-Authenticate");
                closeQuietly(response);
                auth.answer(key, registry, scope, header == null ? null : header.getValue(), action);
                challenged = true;
                attempt--;
                continue;
            }
            if (status == 401 || status == 403) {
                closeQuietly(response);
                throw new PolicyViolationException(action + " but failed because the registry refused access ("
                        + status + (status == 401 ? " unauthorized" : " forbidden") + "); check registry.username"
                        + " and registry.password or the docker config.json entry for " + registry);
            }
            if ((status >= 500 || status == 429) && attempt < settings.maxTries()) {
                closeQuietly(response);
                sleep(attempt);
                continue;
            }
            try {
                InputStream body = response.getEntity() == null ? InputStream.nullInputStream()
                        : response.getEntity().getContent();
                return new Response(response, body);
            } catch (IOException e) {
                closeQuietly(response);
                throw new ResourceUnavailableException(action + " but failed because: " + describe(e), e);
            }
        }
    }

    static byte[] readBounded(InputStream in, int limit, String action) throws IOException, RuncibleException {
        byte[] bytes = in.readNBytes(limit + 1);
        if (bytes.length > limit) {
            throw new ResourceUnavailableException(action + " but failed because the response is larger than "
                    + limit + " bytes");
        }
        return bytes;
    }

    private static void sleep(int attempt) throws ResourceUnavailableException {
        try {
            Thread.sleep(RETRY_SLEEP_MS << (attempt - 1));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ResourceUnavailableException("Interrupted while retrying a registry request", e);
        }
    }

    static String describe(IOException e) {
        String message = e.getMessage();
        return e.getClass().getSimpleName() + (message == null ? "" : ": " + message);
    }

    static void closeQuietly(AutoCloseable closeable) {
        try {
            closeable.close();
        } catch (Exception e) {
            // nothing more to do
        }
    }

    int maxTries() {
        return settings.maxTries();
    }

    @Override
    public void close() {
        closeQuietly(http);
    }
}
