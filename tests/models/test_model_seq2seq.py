"""The PyTorch tutorial "NLP From Scratch: Translation with a Sequence to Sequence Network and
Attention" as it writes its models: `EncoderRNN` (Embedding + GRU, batch_first, Dropout),
`BahdanauAttention` (Wa/Ua/Va, `scores.squeeze(2).unsqueeze(1)`, `torch.bmm`) and
`AttnDecoderRNN` whose forward runs the greedy decode loop (`torch.empty(...).fill_(SOS_token)`,
`forward_step`, `topk(1)` fed back as the next input, or teacher forcing from a target tensor),
with `torch.cat` of the steps and `log_softmax`: eager, traced, imported with `xjit.from_torch`,
saved/loaded, against PyTorch (TorchScript refuses the tutorial's `device` global)."""

from __future__ import annotations

import numpy as np
import torch
from model_oracle import assert_close, check_compiled, twins

import xjit

SOS_token = 0
MAX_LENGTH = 6
INPUT_LANG, OUTPUT_LANG, HIDDEN = 17, 13, 8


def seq2seq(torch):
    nn = torch.nn
    F = torch.nn.functional
    device = torch.device("cpu")

    class EncoderRNN(nn.Module):
        def __init__(self, input_size, hidden_size, dropout_p=0.1):
            super(EncoderRNN, self).__init__()  # noqa: UP008 (the tutorial's spelling)
            self.hidden_size = hidden_size

            self.embedding = nn.Embedding(input_size, hidden_size)
            self.gru = nn.GRU(hidden_size, hidden_size, batch_first=True)
            self.dropout = nn.Dropout(dropout_p)

        def forward(self, input):
            embedded = self.dropout(self.embedding(input))
            output, hidden = self.gru(embedded)
            return output, hidden

    class BahdanauAttention(nn.Module):
        def __init__(self, hidden_size):
            super(BahdanauAttention, self).__init__()  # noqa: UP008
            self.Wa = nn.Linear(hidden_size, hidden_size)
            self.Ua = nn.Linear(hidden_size, hidden_size)
            self.Va = nn.Linear(hidden_size, 1)

        def forward(self, query, keys):
            scores = self.Va(torch.tanh(self.Wa(query) + self.Ua(keys)))
            scores = scores.squeeze(2).unsqueeze(1)

            weights = F.softmax(scores, dim=-1)
            context = torch.bmm(weights, keys)

            return context, weights

    class AttnDecoderRNN(nn.Module):
        def __init__(self, hidden_size, output_size, dropout_p=0.1):
            super(AttnDecoderRNN, self).__init__()  # noqa: UP008
            self.embedding = nn.Embedding(output_size, hidden_size)
            self.attention = BahdanauAttention(hidden_size)
            self.gru = nn.GRU(2 * hidden_size, hidden_size, batch_first=True)
            self.out = nn.Linear(hidden_size, output_size)
            self.dropout = nn.Dropout(dropout_p)

        def forward(self, encoder_outputs, encoder_hidden, target_tensor=None):
            batch_size = encoder_outputs.size(0)
            decoder_input = torch.empty(batch_size, 1, dtype=torch.long, device=device).fill_(
                SOS_token
            )
            decoder_hidden = encoder_hidden
            decoder_outputs = []
            attentions = []

            for i in range(MAX_LENGTH):
                decoder_output, decoder_hidden, attn_weights = self.forward_step(
                    decoder_input, decoder_hidden, encoder_outputs
                )
                decoder_outputs.append(decoder_output)
                attentions.append(attn_weights)

                if target_tensor is not None:
                    # Teacher forcing: Feed the target as the next input
                    decoder_input = target_tensor[:, i].unsqueeze(1)  # Teacher forcing
                else:
                    # Without teacher forcing: use its own predictions as the next input
                    _, topi = decoder_output.topk(1)
                    decoder_input = topi.squeeze(-1).detach()  # detach from history as input

            decoder_outputs = torch.cat(decoder_outputs, dim=1)
            decoder_outputs = F.log_softmax(decoder_outputs, dim=-1)
            attentions = torch.cat(attentions, dim=1)

            return decoder_outputs, decoder_hidden, attentions

        def forward_step(self, input, hidden, encoder_outputs):
            embedded = self.dropout(self.embedding(input))

            query = hidden.permute(1, 0, 2)
            context, attn_weights = self.attention(query, encoder_outputs)
            input_gru = torch.cat((embedded, context), dim=2)

            output, hidden = self.gru(input_gru, hidden)
            output = self.out(output)

            return output, hidden, attn_weights

    class Translator(nn.Module):
        """The tutorial's evaluate(): encoder then decoder, no target (greedy decoding)."""

        def __init__(self):
            super().__init__()
            self.encoder = EncoderRNN(INPUT_LANG, HIDDEN)
            self.decoder = AttnDecoderRNN(HIDDEN, OUTPUT_LANG)

        def forward(self, input_tensor):
            encoder_outputs, encoder_hidden = self.encoder(input_tensor)
            decoder_outputs, decoder_hidden, decoder_attn = self.decoder(
                encoder_outputs, encoder_hidden
            )
            _, topi = decoder_outputs.topk(1)
            decoded_ids = topi.squeeze()
            return decoded_ids, decoder_outputs, decoder_attn

    class TeacherForced(nn.Module):
        """The tutorial's train_epoch() forward: the decoder fed the target tensor."""

        def __init__(self):
            super().__init__()
            self.encoder = EncoderRNN(INPUT_LANG, HIDDEN)
            self.decoder = AttnDecoderRNN(HIDDEN, OUTPUT_LANG)

        def forward(self, input_tensor, target_tensor):
            encoder_outputs, encoder_hidden = self.encoder(input_tensor)
            decoder_outputs, _, _ = self.decoder(encoder_outputs, encoder_hidden, target_tensor)
            return decoder_outputs

    return Translator, TeacherForced, EncoderRNN, AttnDecoderRNN


def _sentences(seed: int, n: int = 3) -> np.ndarray:
    """Token ids padded to MAX_LENGTH, as the tutorial's get_dataloader builds them (EOS 1)."""
    ids = np.random.default_rng(seed).integers(2, INPUT_LANG, (n, MAX_LENGTH))
    ids[:, -2:] = [1, 0]  # EOS then padding
    return ids


def _sharpen(t) -> None:
    """Random weights give near-uniform logits: scale the output layer so the greedy choices
    are clear (a wrong choice then shows as a different decoded sentence, not a rounding)."""
    with torch.no_grad():
        t.decoder.out.weight.mul_(8.0)


def test_greedy_translation(tmp_path) -> None:
    t, x = twins(lambda lib: seq2seq(lib)[0])
    _sharpen(t)
    x.load_state_dict({k: v.numpy() for k, v in t.state_dict().items()})
    sets = [(_sentences(0),), (_sentences(1),)]
    with torch.no_grad():
        ids = [t(torch.from_numpy(s[0]))[0] for s in sets]
    assert not torch.equal(ids[0], ids[1])  # the two inputs decode differently
    # TorchScript refuses the tutorial's module-level `device` in forward ('python value of
    # type device cannot be used as a value')
    check_compiled(t, x, sets, tmp_path, script="neither")


def test_teacher_forcing(tmp_path) -> None:
    t, x = twins(lambda lib: seq2seq(lib)[1])
    rng = np.random.default_rng(2)
    sets = [(_sentences(s), rng.integers(0, OUTPUT_LANG, (3, MAX_LENGTH))) for s in (3, 4)]
    check_compiled(t, x, sets, tmp_path, script="neither")


def test_attention_weights_are_distributions() -> None:
    t, x = twins(lambda lib: seq2seq(lib)[0])
    a = _sentences(5)
    _, out, attn = x(xjit.from_numpy(a))
    np.testing.assert_allclose(attn.numpy().sum(-1), 1.0, rtol=1e-5)
    assert attn.shape == (3, MAX_LENGTH, MAX_LENGTH)
    with torch.no_grad():
        assert_close(out, t(torch.from_numpy(a))[1], "log-probabilities")
