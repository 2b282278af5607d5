package dev.runcible.core.it.registry;

import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.runcible.core.image.Json;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Base64;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A small token service of the kind the distribution registry delegates to: it checks basic credentials and
 * issues RS256 JWTs carrying the signing certificate (x5c), which the registry trusts through rootcertbundle.
 * A real registry is on the other side; only the token service is ours, as no packaged one exists here.
 */
final class TokenServer implements AutoCloseable {
    static final String SERVICE = "runcible-test";
    static final String ISSUER = "runcible-test-issuer";

    private final HttpServer server;
    private final PrivateKey key;
    private final String certificate;
    private final String expectedAuthorization;
    private final long lifetimeSeconds;
    final AtomicInteger issued = new AtomicInteger();
    final AtomicInteger refused = new AtomicInteger();

    TokenServer(Pki pki, String user, String password, long lifetimeSeconds) throws Exception {
        this.key = KeyFactory.getInstance("RSA").generatePrivate(new PKCS8EncodedKeySpec(pem(pki.tokenKey)));
        X509Certificate cert = (X509Certificate) CertificateFactory.getInstance("X.509")
                .generateCertificate(Files.newInputStream(pki.tokenCert));
        this.certificate = Base64.getEncoder().encodeToString(cert.getEncoded());
        this.expectedAuthorization = "Basic " + Base64.getEncoder().encodeToString((user + ":" + password)
                .getBytes(StandardCharsets.UTF_8));
        this.lifetimeSeconds = lifetimeSeconds;
        this.server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/token", this::token);
        server.start();
    }

    int port() {
        return server.getAddress().getPort();
    }

    String realm() {
        return "http://127.0.0.1:" + port() + "/token";
    }

    private void token(HttpExchange exchange) throws IOException {
        try (exchange) {
            if (!expectedAuthorization.equals(exchange.getRequestHeaders().getFirst("Authorization"))) {
                refused.incrementAndGet();
                exchange.sendResponseHeaders(401, -1);
                return;
            }
            String scope = "";
            String query = exchange.getRequestURI().getRawQuery();
            for (String pair : query == null ? new String[0] : query.split("&")) {
                if (pair.startsWith("scope=")) {
                    scope = URLDecoder.decode(pair.substring(6), StandardCharsets.UTF_8);
                }
            }
            String[] parts = scope.split(":");
            long now = System.currentTimeMillis() / 1000;
            ObjectNode header = Json.MAPPER.createObjectNode();
            header.put("typ", "JWT");
            header.put("alg", "RS256");
            header.putArray("x5c").add(certificate);
            ObjectNode claims = Json.MAPPER.createObjectNode();
            claims.put("iss", ISSUER);
            claims.put("sub", "tester");
            claims.put("aud", SERVICE);
            claims.put("exp", now + lifetimeSeconds);
            claims.put("nbf", now - 10);
            claims.put("iat", now);
            claims.put("jti", UUID.randomUUID().toString());
            if (parts.length == 3) {
                ObjectNode access = claims.putArray("access").addObject();
                access.put("type", parts[0]);
                access.put("name", parts[1]);
                access.putArray("actions").add("pull");
            }
            String signingInput = base64Url(Json.MAPPER.writer().without(
                    com.fasterxml.jackson.databind.SerializationFeature.INDENT_OUTPUT).writeValueAsBytes(header))
                    + "." + base64Url(Json.MAPPER.writer().without(
                    com.fasterxml.jackson.databind.SerializationFeature.INDENT_OUTPUT).writeValueAsBytes(claims));
            Signature signature = Signature.getInstance("SHA256withRSA");
            signature.initSign(key);
            signature.update(signingInput.getBytes(StandardCharsets.US_ASCII));
            String token = signingInput + "." + base64Url(signature.sign());
            byte[] body = ("{\"token\":\"" + token + "\",\"expires_in\":" + lifetimeSeconds + "}")
                    .getBytes(StandardCharsets.UTF_8);
            issued.incrementAndGet();
            exchange.getResponseHeaders().add("Content-Type", "application/json");
            exchange.sendResponseHeaders(200, body.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        } catch (java.security.GeneralSecurityException e) {
            throw new IOException(e);
        }
    }

    private static String base64Url(byte[] bytes) {
        return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }

    private static byte[] pem(Path file) throws IOException {
        String text = Files.readString(file).replaceAll("-----[A-Z ]+-----", "").replaceAll("\\s", "");
        return Base64.getDecoder().decode(text);
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
