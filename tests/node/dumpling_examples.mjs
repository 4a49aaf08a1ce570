// The Node.js (fetch) examples from DumplingAI's pages, copied unchanged but for the
// host of each URL (BASE, from the command line), then used to page a whole account.
const BASE = process.argv[2];

async function getTikTokProfile(apiKey, handle) {
  const url = `${BASE}/api/v1/get-tiktok-profile`;
  const options = {
    method: 'POST',
    headers: {
      'Content-Type': 'application/json',
      'Authorization': `Bearer ${apiKey}`
    },
    body: JSON.stringify({ handle })
  };

  try {
    const response = await fetch(url, options);
    const data = await response.json();
    if (!response.ok) {
      console.error(`Error: ${response.status}`, data);
      return null;
    }
    console.log(data);
    return data;
  } catch (error) {
    console.error('Failed to fetch TikTok profile:', error);
    return null;
  }
}

async function getTikTokProfileVideos(apiKey, handle, maxCursor = null) {
const url = `${BASE}/api/v1/get-tiktok-profile-videos`;
const body = { handle };
if (maxCursor) body.maxCursor = maxCursor;
const options = {
method: 'POST',
headers: {
'Content-Type': 'application/json',
'Authorization': `Bearer ${apiKey}`
},
body: JSON.stringify(body)
};
try {
const response = await fetch(url, options);
const data = await response.json();
if (!response.ok) {
console.error(`Error: ${response.status}`, data);
return null;
}
console.log(`Fetched ${data.aweme_list.length} videos`);
console.log(`Has more: ${data.has_more}`);
return data;
} catch (error) {
console.error('Failed to fetch TikTok profile videos:', error);
return null;
}
}

async function getTikTokVideo(apiKey, url) {
const endpoint = `${BASE}/api/v1/get-tiktok-video`;
const options = {
method: 'POST',
headers: {
'Content-Type': 'application/json',
'Authorization': `Bearer ${apiKey}`
},
body: JSON.stringify({ url })
};
try {
const response = await fetch(endpoint, options);
const data = await response.json();
if (!response.ok) {
console.error(`Error: ${response.status}`, data);
return null;
}
console.log('Video ID:', data.id);
console.log('Author:', data.author.uniqueId);
console.log('Stats:', data.stats);
return data;
} catch (error) {
console.error('Failed to fetch TikTok video:', error);
return null;
}
}

// What a user of the examples would write around them: page through the whole account.
const profile = await getTikTokProfile('YOUR_API_KEY', 'stoolpresidente');
const ids = [];
let cursor = null;
for (;;) {
  const page = await getTikTokProfileVideos('YOUR_API_KEY', 'stoolpresidente', cursor);
  if (page === null) process.exit(1);
  ids.push(...page.aweme_list.map((item) => item.aweme_id));
  if (!page.has_more) break;
  cursor = page.max_cursor;
}
const video = await getTikTokVideo(
  'YOUR_API_KEY', `https://www.tiktok.com/@stoolpresidente/video/${ids[ids.length - 1]}`);
console.log(JSON.stringify({
  videoCount: profile.stats.videoCount, walked: ids.length, distinct: new Set(ids).size,
  lastVideo: video && video.id, lastListed: ids[ids.length - 1],
}));
