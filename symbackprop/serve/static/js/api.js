// The JSON API (same origin). Errors come back as {error: {message, key}}.

export async function post(path, body) {
  const response = await fetch(path, {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
  });
  return { ok: response.ok, status: response.status, response, data: response.headers.get("Content-Type")?.includes("json") ? await response.json() : null };
}

export async function get(path) {
  const response = await fetch(path);
  return { ok: response.ok, status: response.status, data: await response.json() };
}
