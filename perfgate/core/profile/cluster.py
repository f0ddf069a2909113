"""Sessions → persona labels: k-means with k chosen by silhouette (2–8), or DBSCAN.

    fit = fit_clusters(matrix, method="kmeans", k=None, seed=0)
    labels = fit.predict(other_matrix)      # any session, also those not in the fitted sample

The matrix is standardised first (mean 0, sd 1 per feature; constant features stay 0).
DBSCAN's eps is twice the 90th percentile of each point's distance to its `min_samples`-th
neighbour; its noise points are assigned to the nearest core point's cluster, and the noise count
is reported.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from sklearn.cluster import DBSCAN, KMeans
from sklearn.metrics import silhouette_score
from sklearn.neighbors import NearestNeighbors
from sklearn.preprocessing import StandardScaler

Matrix = npt.NDArray[np.float64]
K_RANGE = range(2, 9)
_SILHOUETTE_SAMPLE = 2000
_SELECTION_SAMPLE = 3000  # k is chosen on this many sessions, then fitted on the whole sample


@dataclass(frozen=True)
class ClusterFit:
    method: str
    k: int
    scores: dict[str, float]
    chosen_by: str
    scaler: StandardScaler | None
    centres: Matrix  # k-means centroids, or DBSCAN core points (scaled space)
    centre_labels: npt.NDArray[np.int64]

    def predict(self, matrix: Matrix) -> npt.NDArray[np.int64]:
        if self.k <= 1 or self.scaler is None or len(matrix) == 0:
            return np.zeros(len(matrix), dtype=np.int64)
        scaled = self.scaler.transform(matrix)
        nearest = NearestNeighbors(n_neighbors=1).fit(self.centres)
        index = nearest.kneighbors(scaled, return_distance=False)[:, 0]
        labels: npt.NDArray[np.int64] = self.centre_labels[index]
        return labels


def _single(method: str, reason: str) -> ClusterFit:
    empty = np.zeros((0, 1))
    return ClusterFit(method, 1, {}, reason, None, empty, np.zeros(0, dtype=np.int64))


def _silhouette(scaled: Matrix, labels: npt.NDArray[np.int64], seed: int) -> float:
    if len(set(labels.tolist())) < 2:
        return -1.0
    size = min(len(scaled), _SILHOUETTE_SAMPLE)
    return float(silhouette_score(scaled, labels, sample_size=size, random_state=seed))


def fit_clusters(
    matrix: Matrix, *, method: str = "kmeans", k: int | None = None, seed: int = 0
) -> ClusterFit:
    """Cluster the rows of `matrix` (sessions × features)."""
    distinct = len(np.unique(matrix, axis=0)) if len(matrix) else 0
    if distinct < 3 or (k is not None and k <= 1):
        return _single(method, "too few distinct sessions to cluster" if distinct < 3 else "--personas 1")
    scaler = StandardScaler().fit(matrix)
    scaled = scaler.transform(matrix)
    if method == "dbscan":
        return _fit_dbscan(scaled, scaler, seed)
    return _fit_kmeans(scaled, scaler, k, seed, distinct)


def _kmeans(scaled: Matrix, k: int, seed: int) -> KMeans:
    return KMeans(n_clusters=k, n_init=3, random_state=seed).fit(scaled)


def _fit_kmeans(
    scaled: Matrix, scaler: StandardScaler, k: int | None, seed: int, distinct: int
) -> ClusterFit:
    if k is not None:
        model = _kmeans(scaled, min(k, distinct), seed)
        labels = model.labels_.astype(np.int64)
        scores = {f"silhouette_k{model.n_clusters}": _silhouette(scaled, labels, seed)}
        chosen_by = f"--personas {k}"
    else:
        rows = np.random.default_rng(seed).permutation(len(scaled))[:_SELECTION_SAMPLE]
        subset = scaled[rows]
        scores = {}
        candidates = [c for c in K_RANGE if c < distinct]
        for candidate in candidates:
            labels = _kmeans(subset, candidate, seed).labels_.astype(np.int64)
            scores[f"silhouette_k{candidate}"] = _silhouette(subset, labels, seed)
        best = max(candidates, key=lambda c: (round(scores[f"silhouette_k{c}"], 3), -c))
        model = _kmeans(scaled, best, seed)
        chosen_by = f"highest silhouette over k={min(candidates)}..{max(candidates)}"
        if len(subset) < len(scaled):
            chosen_by += f" (on {len(subset)} of {len(scaled)} sampled sessions)"
    centres = np.asarray(model.cluster_centers_, dtype=float)
    return ClusterFit(
        "kmeans", len(centres), scores, chosen_by, scaler, centres, np.arange(len(centres), dtype=np.int64)
    )


def _fit_dbscan(scaled: Matrix, scaler: StandardScaler, seed: int) -> ClusterFit:
    min_samples = max(5, min(50, len(scaled) // 100))
    neighbours = NearestNeighbors(n_neighbors=min(min_samples, len(scaled))).fit(scaled)
    distances = neighbours.kneighbors(scaled)[0][:, -1]
    eps = max(2.0 * float(np.quantile(distances, 0.9)), 1e-6)
    model = DBSCAN(eps=eps, min_samples=min_samples).fit(scaled)
    labels = model.labels_.astype(np.int64)
    core = model.core_sample_indices_
    if len(core) == 0 or labels.max() < 1:
        fit = _single("dbscan", f"DBSCAN found one cluster (eps={eps:.3g}, min_samples={min_samples})")
        return fit
    noise = int((labels < 0).sum())
    scores = {
        "silhouette": _silhouette(scaled[labels >= 0], labels[labels >= 0], seed),
        "eps": eps,
        "min_samples": float(min_samples),
        "noise_share": noise / len(labels),
    }
    return ClusterFit(
        "dbscan",
        int(labels.max()) + 1,
        scores,
        "DBSCAN density (eps = 2 × p90 of the k-distance); noise joined to the nearest core point",
        scaler,
        scaled[core],
        labels[core],
    )
