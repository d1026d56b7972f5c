// The part of the ngrok SDK (@ngrok/ngrok, pinned by docker/ngrok/gateway/package-lock.json)
// that the ngrok gateway calls, for `npm run lint:types`: the SDK itself is
// installed only in the image, where it brings its native binary.
declare module '@ngrok/ngrok' {
  export interface Listener {
    url(): string | null;
    close(): Promise<void>;
  }
  export function forward(config: Record<string, unknown>): Promise<Listener>;
  const ngrok: { forward: typeof forward };
  export default ngrok;
}
