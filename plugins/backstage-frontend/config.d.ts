export interface Config {
  portal?: {
    /**
     * The portal's URL (its HTTP API is under <baseUrl>/api). Without it the plugin asks discovery for the
     * 'portal' plugin id.
     * @visibility frontend
     */
    baseUrl?: string;
  };
}
